"""The book's torch experiments: a training harness, stored records, and one module per experiment.

========================  ==================================================================
module                    what
========================  ==================================================================
``training``              the seeded training harness: :func:`~.training.training_loop` (the
                          one optimisation loop), :func:`~.training.train` on the long-lag
                          tasks, :func:`~.training.measure_step_time`
``records``               stored records in ``rnnbook/data/``: strict JSON (non-finite values
                          refused), :class:`~.records.StoredExperiment` (file, command line,
                          ``--output``)
``clipping``              chapter 5: loss spikes with and without gradient clipping
``lag``                   chapter 3: copying an input from d steps back
``longlag``               chapters 6 and 7: RNN, LSTM and GRU on the adding problem
``speed``                 chapter 7: time per training step of LSTM and GRU
``after_gates``           chapter 8: RNN, LSTM, GRU, LRU, minGRU and attention on the adding
                          problem at T = 100 and 200
========================  ==================================================================

Every experiment module has the same shape: ``STORE`` (its :class:`~.records.StoredExperiment`),
``run_experiment(...)`` (the JSON-ready record), ``dump_record``, ``results_from_record``,
``load_runs()`` (the stored results), ``default_output()`` and ``main`` (``python -m
rnnbook.experiments.<name>`` regenerates the file). The submodules import torch, so they are not
imported here.
"""
