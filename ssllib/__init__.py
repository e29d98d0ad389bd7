"""ssllib: a thin library to reproduce Zhang et al. (ICLR 2022), "How does SimSiam avoid collapse
without negative samples?", next to the paper.  See README.md for the map of modules."""
__version__ = "0.1.0"
