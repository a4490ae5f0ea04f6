"""A small campaign scenario shared by the campaign tests (one threat class, two pairs; a
footprint of 2 × 2 cells of 4° on the US East Coast)."""

from __future__ import annotations

TINY = """\
name: tiny-campaign
epoch: 2009-09-17T00:00:00Z
threats:
  - name: icbm
    missile: ICBM-liquid
    launch_areas: [Tehran]
    targets: [Washington, New York]
architectures:
  - name: none
  - name: third-site-2007
  - name: third-site-2007-russian-radars
uncertain:
  - path: architectures.*.rules.decision_delay
    distribution: uniform
    low: 30.0
    high: 900.0
    source: test
  - path: architectures.third-site-2007-russian-radars.exchange_latency
    distribution: loguniform
    low: 5.0
    high: 600.0
    source: test
  - path: architectures.third-site-2007.sensors[EMR].rcs
    distribution: choice
    values: [0.0001, 0.01]
    source: test
defended:
  regions:
    - {name: east, lat_min_deg: 36.0, lat_max_deg: 44.0, lon_min_deg: -80.0, lon_max_deg: -70.0}
analyses:
  footprint: {grid_deg: 4.0}
campaign:
  footprint_grid_deg: 4.0
"""
