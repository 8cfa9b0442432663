"""Research: rules over stored history, nothing sent or stored.

    replay.py     `finsent alerts replay`: what the rules would have fired, with the alerter's evaluate step
    backtest.py   `finsent alerts backtest`: the replay scored against labelled company events

Only this package and the CLI (and the shell, tests and scripts) import it.
"""
