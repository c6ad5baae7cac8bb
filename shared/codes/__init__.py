"""Code tables as data, each with its source noted in the module or data file."""
