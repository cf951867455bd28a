"""Running many experiments at once on Ray: ``contactlab sweep``, parallel collectors.

* :mod:`agent.sweep.grid`: a grid over Hydra overrides (``key=a,b``), one trial per point,
  each validated with ``load_config`` before anything starts.
* :mod:`agent.sweep.cluster`: starting a loopback-only local Ray, or joining a cluster, and
  checking that the sweep folder is shared storage on every node.
* :mod:`agent.sweep.trial`: one trial as a Ray task: ``agent.run.run`` on its own run folder,
  re-run (and so resumed from its checkpoint) when its worker dies.
* :mod:`agent.sweep.driver`: the sweep itself: skip finished trials, resume checkpointed ones,
  gather every trial's final metrics into ``results.csv``.
* :mod:`agent.sweep.collectors`: Ray actors stepping env copies in parallel for a run with
  ``loop.collectors > 1``.

Only this package (and the opt-in collectors path of a run) imports Ray.
"""
