"""The version, in one place: the package, `depthgauge --version`, model cards and exports read it here."""

__version__ = "0.1.0"
