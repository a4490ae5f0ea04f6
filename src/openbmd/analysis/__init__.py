"""Analyses above the core: defended footprints, launch-area denial, ICBM engageability.

Each analysis calls the one engagement chain (:func:`openbmd.engagement.engage_architecture`)
and returns an :class:`xarray.Dataset` with named dims and units.
"""
