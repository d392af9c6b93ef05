"""Network families, each assembled only from ``translate.blocks``."""
