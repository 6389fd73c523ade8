"""TMS — transport management. For now only the pure route-planning solver code (routing.py) and the
benchmark instance readers (instances.py); the business module (shipments, carriers, dispatch) comes later."""
