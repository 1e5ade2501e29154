"""Bundled examples that need no download (scikit-learn's digits ship with the package)."""
