"""ROS-free ISAC maths shared by the simulator, the nodes, the RL environments and the
experiments: one implementation of each formula, numpy/scipy only, SI units, vectorised
over vehicles and antennas.

Modules: :mod:`units` (dB conversions, constants), :mod:`array` (ULA steering vectors and
beam patterns), :mod:`geometry` (RSU-relative polar coordinates), :mod:`channel`
(communication channels, SINR, rates, fairness, energy efficiency), :mod:`radar` (echo
measurement model), :mod:`bounds` (CRLB and PCRB), :mod:`aoi` (age of information and
energy), :mod:`scenario` (typed, validated scenario files).
"""
