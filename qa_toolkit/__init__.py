"""qa_toolkit: offline speech analytics and compliance QA for Chinese debt-collection calls."""

__version__ = "0.1.0"

__all__ = ["__version__"]
