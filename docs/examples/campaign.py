# %% [markdown]
# # Which disputed number moves the answer most? A campaign in a notebook
#
# The bundled scenario `europe-2009` names its disputed parameters in an `uncertain:` block:
# the two-stage GBI's burnout speed (5.4 to 9 km/s), the exchange centre's latency and the
# third site's decision delay, each with its source. `openbmd.campaign` draws them per trial
# and answers the engageability and footprint questions again; the result is one xarray
# Dataset with a `trial` dim. Forty trials take a few minutes on two cores (the first run also
# builds the fly-out fans of every drawn speed; `fan_store` keeps them for the next run).

# %%
from pathlib import Path

import openbmd

TRIALS = 40
FANS = Path.home() / ".cache" / "openbmd" / "fans"  # the store `openbmd analyze` uses

ds = openbmd.campaign("europe-2009", trials=TRIALS, seed=0, fan_store=FANS)
print(ds[["parameter_units", "distribution", "source"]].to_dataframe())

# %% The engageable share of Russian ICBM trajectories: mean, 95 % interval, sensitivity.
cell = {"threat": "russia-icbm", "architecture": "third-site-2007"}
lo, hi = ds["engageable_fraction_ci"].sel(cell).values
print(f"mean {float(ds['engageable_fraction_mean'].sel(cell)):.2f}, 95 % CI [{lo:.2f}, {hi:.2f}]")
print(ds["engageable_fraction_sobol_first"].sel(cell).to_pandas())

# %% Population defended in Europe against the IRBM class, per trial (millions).
pop = ds["population_defended"].sel(region="europe", footprint_threat="iran-irbm") / 1e6
print(pop.quantile([0.05, 0.5, 0.95], dim="trial").to_pandas())

# %% The same Dataset on two processes (or executor="dask"): compared exactly.
again = openbmd.campaign("europe-2009", trials=TRIALS, seed=0, executor="processes", fan_store=FANS)
assert again.identical(ds)
