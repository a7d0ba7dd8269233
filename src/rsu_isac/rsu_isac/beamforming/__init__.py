"""Beamforming policies behind one interface: predicted vehicles -> beams, powers and (for
several RSUs) the vehicle-to-RSU assignment (docs/architecture.md)."""
