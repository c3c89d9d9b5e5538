"""A seeded simulation of the real service code under random fault schedules.

``python -m podium.sim --seeds 0:1000`` (or ``scripts/simulate``); see
docs/operations.md, section "Simulation".
"""
