# %% [markdown]
# # The 2007-2009 debate, side by side, in a notebook
#
# This script (cells marked `# %%`, runnable as a plain script or in Jupyter/VS Code) reproduces
# the ledger of `openbmd analyze` for the bundled scenario `europe-2009`, then looks at two of
# its Datasets directly. Use a coarser grid for a quick look: `GRID_DEG = 3.0` takes about a
# minute on two cores; the report's 1-degree grid takes a few minutes.

# %%
import openbmd
from openbmd.analysis.ledger import ledger

GRID_DEG = 3.0

scenario = openbmd.load_scenario("europe-2009")
footprint = scenario.analyses.footprint.model_copy(update={"grid_deg": GRID_DEG})
scenario = scenario.model_copy(
    update={"analyses": scenario.analyses.model_copy(update={"footprint": footprint})}
)
result = openbmd.analyze(scenario)

# %% The ledger: one column per architecture, each row with the rule that computed it.
table = ledger(result)
for row in table.rows:
    if row.unit in ("million", "fraction"):
        cells = "  ".join(f"{a}={'-' if v is None else round(v, 2)}" for a, v in row.values.items())
        print(f"{row.section}: {row.label} [{row.unit}]  {cells}")

# %% Footprints are an xarray Dataset with architecture, threat, lat and lon dims.
europe = result.footprints["europe"]
print(europe["defended"].sum(["lat", "lon"]).to_pandas())

# %% The disputed GBI burnout speed: engageable share of Russian ICBM trajectories.
russia = result.engageability["russia-icbm"]
print(russia["fraction"].sel(commit="fire-control-track").to_pandas())
