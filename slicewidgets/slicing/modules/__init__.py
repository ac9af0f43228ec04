"""Slicing modules at Snorkel's ``snorkel.slicing.modules`` path (see :mod:`.slice_combiner`)."""
