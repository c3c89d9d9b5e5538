"""One runtime per step type, behind one protocol (base.py); registry.py maps the types
to them."""
