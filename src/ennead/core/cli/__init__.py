"""The ``ennead`` command line."""
