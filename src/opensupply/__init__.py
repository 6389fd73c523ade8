"""OpenSupply: one supply-chain suite on one database."""

__version__ = "0.1.0"
