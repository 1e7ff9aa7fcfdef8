"""discovery: e-discovery search over chat exports."""

__version__ = "0.1.0"
