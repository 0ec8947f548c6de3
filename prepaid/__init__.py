"""prepaid: self-hosted prepaid customer accounts for small shops."""

__version__ = "0.1.0"
