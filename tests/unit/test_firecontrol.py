"""Fire control from tracks: latency of the held information, track capacity of a raid."""

from __future__ import annotations

import numpy as np
from _helpers import threats

from openbmd.catalog.sensors import sensor
from openbmd.firecontrol import fire_control_info, pip_errors, within_capacity


def test_latency_delays_the_information_the_shooter_holds():
    smp, _tr = threats()
    emr = sensor("EMR").model
    t = np.asarray(smp.t)
    looks = np.zeros(smp.r_ecef.shape[:2], bool)
    looks[:, (t >= 400.0) & (t <= 600.0)] = True
    now = fire_control_info(t, smp.r_ecef, [emr], [looks], [0.0], [True], [False])
    late = fire_control_info(t, smp.r_ecef, [emr], [looks], [100.0], [True], [False])
    assert np.all(now.first_update == 400.0) and np.all(late.first_update == 500.0)
    rows = np.arange(looks.shape[0])
    t_int = np.full(rows.size, 800.0)
    v = np.tile([1.0, 0.0, 0.0], (rows.size, 1))
    pc_now, _ = pip_errors(now, rows, t_int, np.full(rows.size, 550.0), t_int, v)
    pc_late, pa_late = pip_errors(late, rows, t_int, np.full(rows.size, 550.0), t_int, v)
    assert np.all(np.isfinite(pc_now)) and np.all(pc_late > pc_now)  # fewer looks held
    assert np.all(pa_late < pc_late)  # in-flight updates arrive before acquisition
    # a cue sensor's data are a fire solution but no in-flight update
    cue = fire_control_info(t, smp.r_ecef, [emr], [looks], [0.0], [False], [True])
    pc_cue, pa_cue = pip_errors(cue, rows, t_int, np.full(rows.size, 550.0), t_int, v)
    np.testing.assert_allclose(pc_cue, pc_now, rtol=1e-9)
    np.testing.assert_allclose(pa_cue, pc_cue, rtol=1e-9)
    assert np.all(cue.first_update == np.inf)


def test_track_capacity_admits_the_first_tracks_of_a_raid():
    t = np.arange(0.0, 100.0, 10.0)
    looks = np.zeros((4, t.size), bool)
    looks[0, 0:5] = True  # 0-40 s
    looks[1, 1:9] = True  # 10-80 s
    looks[2, 2:4] = True  # 20-30 s: two tracks live, refused at capacity 2
    looks[3, 6:9] = True  # 60-80 s: threat 0's track ended, one live
    out = within_capacity(looks, t, 2)
    assert out.any(axis=1).tolist() == [True, True, False, True]
    assert np.array_equal(within_capacity(looks, t, 3), looks)
