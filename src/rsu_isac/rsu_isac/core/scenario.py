"""Typed scenario schema: geometry, radio, radar, traffic, tracking and AoI settings.

Scenario files live in ``config/scenarios/*.yaml``. Every key is required (no hidden
defaults) and validated on load (:func:`load_scenario`) with an error that names the key
and the allowed range. Each file has a ``source`` saying where its numbers come from;
constants a paper leaves open are marked there as our own choice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rsu_isac.core.channel import pathloss_amplitude
from rsu_isac.core.schema import SchemaError, from_dict, load_yaml, spec
from rsu_isac.core.units import dbm_to_watt

ChannelModel = Literal["los_pathloss", "multipath", "rayleigh"]
RsuRole = Literal["monostatic", "transmit", "receive"]
VehicleClass = Literal["car", "truck", "bus"]
VEHICLE_CLASSES: tuple[VehicleClass, ...] = ("car", "truck", "bus")
# Combined-size limits of a scenario (single keys have their own ranges): the signal-level
# frame is processed in complex128 with a few working copies (radar_dsp), and vehicles on a
# lane cannot stand closer than a short car's length.
FRAME_BYTES_PER_SAMPLE = 16 * 4
MAX_FRAME_BYTES = 2**31  # 2 GiB: the 32 x 64 x 128 frames take 16 MiB
MIN_VEHICLE_SPACING_M = 4.0
MAX_SCENARIO_BYTES = 1 << 20  # a scenario file is a few kB; /dev/zero must not hang a load


@dataclass(frozen=True)
class ArrayConfig:
    num_tx_antennas: int = spec(1, 1024, doc="transmit ULA elements N_t")
    num_rx_antennas: int = spec(1, 1024, doc="receive ULA elements N_r")
    spacing_wavelengths: float = spec(0.05, 4.0, "wavelengths", "element spacing")


@dataclass(frozen=True)
class ChannelConfig:
    model: ChannelModel = spec(doc="communication channel model")
    reference_gain_db: float = spec(-200.0, 0.0, "dB", "path gain alpha0 at the reference distance")
    reference_distance_m: float = spec(1e-3, 1e4, "m", "reference distance d0")
    pathloss_exponent: float = spec(1.0, 8.0, doc="path-loss exponent")
    num_paths: int = spec(1, 64, doc="paths of the multipath model (1 = LoS only)")
    nlos_power_ratio_db: float = spec(-100.0, 0.0, "dB", "power of each NLoS path vs LoS")
    pilots: bool = spec(doc="vehicles send pilots: policies get an estimate of the channel")
    csi_error_db: float = spec(
        -100.0, 20.0, "dB", "normalised mean squared error of that estimate (core.channel)"
    )

    def amplitude(self, range_m: ArrayLike) -> NDArray[np.float64]:
        """Large-scale amplitude alpha(d) of this model's path loss at ``range_m``
        (core.channel.pathloss_amplitude with its reference gain, distance and exponent)."""
        return pathloss_amplitude(
            range_m, self.reference_gain_db, self.reference_distance_m, self.pathloss_exponent
        )


@dataclass(frozen=True)
class RadioConfig:
    carrier_frequency_hz: float = spec(1e8, 1e12, "Hz", "carrier frequency f_c")
    bandwidth_hz: float = spec(1e3, 1e11, "Hz", "signal bandwidth")
    max_power_dbm: float = spec(-30.0, 80.0, "dBm", "power budget P_max per RSU")
    comm_noise_dbm: float = spec(-250.0, 30.0, "dBm", "vehicle receiver noise sigma_c^2")
    sensing_noise_dbm: float = spec(-250.0, 30.0, "dBm", "RSU echo noise sigma_z^2")
    pa_efficiency: float = spec(1e-3, 1.0, doc="power-amplifier efficiency eta_PA")
    circuit_power_w: float = spec(0.0, 1e5, "W", "static circuit power P_c")
    array: ArrayConfig = spec()
    channel: ChannelConfig = spec()

    @property
    def max_power_w(self) -> float:
        return float(dbm_to_watt(self.max_power_dbm))

    @property
    def comm_noise_w(self) -> float:
        return float(dbm_to_watt(self.comm_noise_dbm))

    @property
    def sensing_noise_w(self) -> float:
        return float(dbm_to_watt(self.sensing_noise_dbm))


@dataclass(frozen=True)
class RadarConfig:
    fading_factor: tuple[float, float] = spec(
        -1e6, 1e6, doc="complex fading factor kappa as [re, im]"
    )
    matched_filter_gain: float = spec(1e-6, 1e12, doc="matched-filter gain xi (000) / G (004)")
    delay_coefficient_s: float = spec(0.0, 1.0, "s", "alpha_tau (000) / rho_nu (004)")
    doppler_coefficient_hz: float = spec(0.0, 1e9, "Hz", "alpha_mu (000) / rho_mu (004)")
    waveform: WaveformConfig = spec()

    @property
    def kappa(self) -> complex:
        return complex(*self.fading_factor)


@dataclass(frozen=True)
class WaveformConfig:
    """OFDM ISAC frame used for sensing (the signal-level echo abstraction)."""

    num_subcarriers: int = spec(8, 4096, doc="subcarriers per OFDM symbol (fast time)")
    subcarrier_spacing_hz: float = spec(1e3, 1e8, "Hz", "Delta f; range bin c / (2 N Delta f)")
    num_symbols: int = spec(4, 4096, doc="OFDM symbols per frame (slow time)")
    symbol_interval_s: float = spec(1e-7, 1e-2, "s", "time between symbols; Doppler bin 1/(L T)")
    detection_threshold_db: float = spec(-20.0, 60.0, "dB", "post-processing SNR to detect")


@dataclass(frozen=True)
class RsuConfig:
    name: str = spec(doc="frame / namespace name, e.g. rsu0")
    role: RsuRole = spec(doc="monostatic ISAC, or the transmit / receive side of 002")
    position_m: tuple[float, float] = spec(-1e5, 1e5, "m", "array centre in the road frame")


@dataclass(frozen=True)
class LaneConfig:
    y_m: float = spec(-1e4, 1e4, "m", "lane centre line")
    direction: Literal[1, -1] = spec(doc="+1 drives towards +x, -1 towards -x")


@dataclass(frozen=True)
class RoadConfig:
    x_min_m: float = spec(-1e5, 1e5, "m", "road start")
    x_max_m: float = spec(-1e5, 1e5, "m", "road end")
    lane_width_m: float = spec(1.0, 10.0, "m")
    lanes: tuple[LaneConfig, ...] = spec(min_items=1)

    @property
    def length_m(self) -> float:
        return self.x_max_m - self.x_min_m

    def check(self) -> list[tuple[str, str]]:
        if self.x_max_m <= self.x_min_m:
            return [("x_max_m", f"must exceed x_min_m ({self.x_min_m:g}), got {self.x_max_m:g}")]
        return []


@dataclass(frozen=True)
class SpeedConfig:
    distribution: Literal["uniform", "truncated_normal"] = spec()
    mean_mps: float = spec(0.0, 100.0, "m/s", "mean (truncated_normal)")
    std_mps: float = spec(0.0, 50.0, "m/s", "standard deviation (truncated_normal)")
    min_mps: float = spec(0.0, 100.0, "m/s", "lower bound")
    max_mps: float = spec(0.0, 100.0, "m/s", "upper bound")

    def check(self) -> list[tuple[str, str]]:
        if self.max_mps < self.min_mps:
            return [("max_mps", f"must be >= min_mps ({self.min_mps:g})")]
        return []


@dataclass(frozen=True)
class InitialVehicle:
    x_m: float = spec(-1e5, 1e5, "m", "start position along the road")
    lane: int = spec(0, 64, doc="index into road.lanes")
    vehicle_class: VehicleClass = spec()


@dataclass(frozen=True)
class CarFollowingConfig:
    """Intelligent Driver Model (Treiber, Hennecke, Helbing 2000), or none: vehicles keep
    their speed and may overlap (004 Sec. VII "we ignore any congestion")."""

    model: Literal["idm", "none"] = spec()
    time_headway_s: float = spec(0.1, 10.0, "s", "IDM safe time headway T")
    min_gap_m: float = spec(0.0, 50.0, "m", "IDM jam distance s0")
    max_accel_mps2: float = spec(0.1, 10.0, "m/s^2", "IDM maximum acceleration a")
    comfort_decel_mps2: float = spec(0.1, 10.0, "m/s^2", "IDM comfortable deceleration b")


@dataclass(frozen=True)
class TrafficConfig:
    arrivals: Literal["none", "poisson"] = spec(doc="Poisson arrivals per lane, or none")
    arrival_rate_per_lane_per_s: float = spec(0.0, 100.0, "1/s", "Poisson rate lambda per lane")
    class_probabilities: tuple[float, float, float] = spec(
        0.0, 1.0, doc="probability of car, truck, bus"
    )
    speed: SpeedConfig = spec()
    car_following: CarFollowingConfig = spec()
    initial_vehicles: tuple[InitialVehicle, ...] = spec()

    def check(self) -> list[tuple[str, str]]:
        total = sum(self.class_probabilities)
        if abs(total - 1.0) > 1e-6:
            return [("class_probabilities", f"must sum to 1, got {total:g}")]
        return []


@dataclass(frozen=True)
class TrackingConfig:
    """Process noise of the state evolution (000 Sec. IV-A; E of 004 eq. (25))."""

    angle_std_deg: float = spec(0.0, 90.0, "deg", "sigma_theta")
    range_std_m: float = spec(0.0, 1e3, "m", "sigma_d")
    velocity_std_mps: float = spec(0.0, 1e2, "m/s", "sigma_v")


@dataclass(frozen=True)
class AoiConfig:
    """Multimodal sensing and energy settings of 003 (eq. (3)-(9))."""

    processing_delay_slots: float = spec(0.0, 1e3, "slots", "T_proc of eq. (6)")
    vision_energy_j: float = spec(0.0, 1e4, "J", "e_vis per vehicle and frame, eq. (4)")
    full_frame_energy_j: float = spec(
        0.0, 1e4, "J", "E_comp of a whole-road frame (003 Sec. V: 40 J, every vehicle's data)"
    )
    recovery_energy_j: float = spec(0.0, 1e4, "J", "E_recovery per beam sweep, eq. (5)")
    max_aoi_slots: float = spec(1.0, 1e5, "slots", "A_max of (9d)")
    max_misalignment: float = spec(0.0, 1.0, doc="Gamma_misa of (9e)")
    max_error_variance: float = spec(0.0, 1e6, doc="rho of eq. (8)")


@dataclass(frozen=True)
class CameraConfig:
    """The mast camera of the first RSU (pinhole, looking at the road abeam)."""

    mast_height_m: float = spec(1.0, 100.0, "m", "camera height above the road")
    horizontal_fov_deg: float = spec(10.0, 170.0, "deg", "horizontal field of view")
    width_px: int = spec(16, 8192, "px")
    height_px: int = spec(16, 8192, "px")


@dataclass(frozen=True)
class V2xConfig:
    """Vehicles' own reports (cooperative awareness, shaped on ETSI EN 302 637-2 CAMs):
    which vehicles broadcast, how often, how wrong their GNSS is and how late the RSU hears
    them (core.v2x, sim.v2x). Our own choices, not a paper's: automotive single-frequency
    GNSS errs by metres, slowly (a first-order Gauss-Markov error per axis), speed from the
    wheels by a few tenths of a m/s; ITS-G5 delivers within tens of ms."""

    equipped_share: float = spec(0.0, 1.0, doc="share of vehicles that broadcast reports")
    period_s: float = spec(0.01, 10.0, "s", "report period (CAM: 0.1 to 1 s)")
    position_std_m: float = spec(0.0, 100.0, "m", "GNSS error per axis (1 sigma)")
    position_correlation_s: float = spec(0.0, 1e5, "s", "GNSS error correlation time")
    speed_std_mps: float = spec(0.0, 10.0, "m/s", "speed error (1 sigma)")
    heading_std_deg: float = spec(0.0, 90.0, "deg", "heading error (1 sigma)")
    latency_s: tuple[float, float] = spec(0.0, 1.0, "s", "delivery delay, uniform in [lo, hi]")

    def check(self) -> list[tuple[str, str]]:
        low, high = self.latency_s
        if low > high:
            return [("latency_s", f"[{low:g}, {high:g}] is not an interval (lo > hi)")]
        return []


@dataclass(frozen=True)
class ClutterPatch:
    position_m: tuple[float, float] = spec(-1e5, 1e5, "m", "patch centre in the road frame")
    reflection: tuple[float, float] = spec(-1e6, 1e6, doc="complex reflection as [re, im]")


@dataclass(frozen=True)
class NeighbourCell:
    """A co-channel transmitter outside the scenario (a neighbouring RSU or cell) whose
    downlink reaches the road as cross-link interference (001's CLI)."""

    position_m: tuple[float, float] = spec(-1e5, 1e5, "m", "its antenna in the road frame")
    power_dbm: float = spec(-30.0, 80.0, "dBm", "its transmit power over the whole band")
    band_load: float = spec(0.0, 1.0, doc="share of slots a band carries its traffic")
    persistence: float = spec(
        0.0, 1.0, doc="probability that a band keeps its busy / idle state into the next slot"
    )

    def check(self) -> list[tuple[str, str]]:
        load, stay = self.band_load, self.persistence
        # a two-state chain with stationary busy share ``load`` needs P(idle -> busy)
        # = load (1 - stay) / (1 - load) <= 1
        if 0.0 < load < 1.0 and load * (1.0 - stay) > (1.0 - load):
            return [("persistence", f"{stay:g} is too low for band_load {load:g}")]
        return []


@dataclass(frozen=True)
class InterferenceConfig:
    """001's spectrum and interference model (core.interference): sub-bands, the
    full-duplex transceiver's self-interference suppression and neighbouring co-channel
    cells. One band, no SI and no neighbours leave a scenario as without it."""

    @property
    def self_interference_db(self) -> float | None:
        """The SI suppression [dB] where SI is counted, None where it is not."""
        return self.si_suppression_db if self.full_duplex_si else None

    num_bands: int = spec(1, 16, doc="sub-bands the bandwidth splits into")
    band_spacing_hz: float = spec(0.0, 1e11, "Hz", "carrier spacing of the sub-bands")
    full_duplex_si: bool = spec(doc="count the transceiver's own leakage into its echo (SI)")
    si_suppression_db: float = spec(0.0, 300.0, "dB", "isolation plus SI cancellation")
    neighbours: tuple[NeighbourCell, ...] = spec()


@dataclass(frozen=True)
class Scenario:
    name: str = spec(doc="scenario name (the file stem)")
    description: str = spec()
    source: str = spec(doc="where the numbers come from; own choices are marked")
    seed: int = spec(0, 2**63 - 1, doc="seed of every random draw of a run")
    slot_s: float = spec(1e-4, 10.0, "s", "slot duration T")
    horizon_slots: int = spec(1, 10**7, doc="default episode length N")
    radio: RadioConfig = spec()
    radar: RadarConfig = spec()
    rsus: tuple[RsuConfig, ...] = spec(min_items=1)
    road: RoadConfig = spec()
    traffic: TrafficConfig = spec()
    tracking: TrackingConfig = spec()
    aoi: AoiConfig = spec()
    camera: CameraConfig = spec()
    v2x: V2xConfig = spec()
    clutter: tuple[ClutterPatch, ...] = spec()
    interference: InterferenceConfig = spec()

    def check(self) -> list[tuple[str, str]]:
        array, wf = self.radio.array, self.radar.waveform
        samples = array.num_rx_antennas * wf.num_symbols * wf.num_subcarriers
        if samples * FRAME_BYTES_PER_SAMPLE > MAX_FRAME_BYTES:
            return [
                (
                    "radar.waveform",
                    f"a radar frame of {array.num_rx_antennas} x {wf.num_symbols} x "
                    f"{wf.num_subcarriers} samples (radio.array.num_rx_antennas x num_symbols "
                    f"x num_subcarriers) needs {samples * FRAME_BYTES_PER_SAMPLE / 2**30:.3g} "
                    f"GiB in processing, more than {MAX_FRAME_BYTES / 2**30:g} GiB",
                )
            ]
        per_lane = np.bincount(
            [v.lane for v in self.traffic.initial_vehicles], minlength=len(self.road.lanes)
        )
        room = int(self.road.length_m / MIN_VEHICLE_SPACING_M) + 1
        if per_lane.size and per_lane.max() > room:
            lane = int(np.argmax(per_lane))
            return [
                (
                    "traffic.initial_vehicles",
                    f"{per_lane[lane]} vehicles in lane {lane}, but its {self.road.length_m:g} m "
                    f"hold at most {room} ({MIN_VEHICLE_SPACING_M:g} m apart)",
                )
            ]
        for i, vehicle in enumerate(self.traffic.initial_vehicles):
            if vehicle.lane >= len(self.road.lanes):
                return [
                    (
                        f"traffic.initial_vehicles[{i}].lane",
                        f"{vehicle.lane} is not a lane index (road has "
                        f"{len(self.road.lanes)} lane(s))",
                    )
                ]
        names = [r.name for r in self.rsus]
        if len(set(names)) != len(names):
            return [("rsus", f"RSU names must be unique, got {names}")]
        return []

    @property
    def rsu_positions_m(self) -> np.ndarray:
        """(R, 2) array of RSU positions."""
        return np.array([r.position_m for r in self.rsus], dtype=float)

    def illuminator(self, receiver: int) -> int | None:
        """The RSU whose beams RSU ``receiver`` hears in its echo: its own if monostatic, the
        transmit RSU for a receive RSU (002); None for a transmit RSU or a receive RSU with
        no transmit RSU."""
        role = self.rsus[receiver].role
        if role == "monostatic":
            return receiver
        if role == "receive":
            return next((i for i, r in enumerate(self.rsus) if r.role == "transmit"), None)
        return None

    def transmitters(self) -> list[int]:
        """The RSUs that transmit (monostatic or transmit role), in RSU order."""
        return [i for i, r in enumerate(self.rsus) if r.role != "receive"]

    def receivers(self) -> list[int]:
        """The RSUs that hear an echo (those with an :meth:`illuminator`), in RSU order: each
        runs a radar processing and a tracker."""
        return [i for i in range(len(self.rsus)) if self.illuminator(i) is not None]

    def max_echo_range_m(self, receiver: int) -> float:
        """The largest echo range (half the illuminator -> road point -> receiver path, what
        the echo delay measures) of any point of the road for RSU ``receiver`` [m]. The path
        length is convex in the point, so its maximum over the road's rectangle (outer lane
        edges, x_min_m .. x_max_m) is at a corner."""
        tx = self.illuminator(receiver)
        if tx is None:
            raise ValueError(f"RSU '{self.rsus[receiver].name}' receives no echo")
        lanes = [lane.y_m for lane in self.road.lanes]
        half = self.road.lane_width_m / 2
        corners = np.array(
            [
                (x, y)
                for x in (self.road.x_min_m, self.road.x_max_m)
                for y in (min(lanes) - half, max(lanes) + half)
            ]
        )
        rx_xy, tx_xy = self.rsu_positions_m[receiver], self.rsu_positions_m[tx]
        path = np.linalg.norm(corners - tx_xy, axis=1) + np.linalg.norm(corners - rx_xy, axis=1)
        return float(np.max(path) / 2)


def with_antennas(scenario: Scenario, num_antennas: int) -> Scenario:
    """``scenario`` with N_t = N_r = ``num_antennas`` at every RSU (004 Figs. 8 and 11)."""
    array = replace(
        scenario.radio.array, num_tx_antennas=num_antennas, num_rx_antennas=num_antennas
    )
    return replace(scenario, radio=replace(scenario.radio, array=array))


def with_vehicles(scenario: Scenario, count: int) -> Scenario:
    """``scenario`` holding about ``count`` vehicles (001 Fig. 5's number of users): ``count``
    cars from the first slot, evenly spaced over the lanes in turn, and Poisson arrivals at
    the rate that keeps that many on the road at the mean speed,
    lambda = count v / (L lanes) per lane."""
    if count < 1:
        raise ValueError(f"the number of vehicles must be at least 1, got {count}")
    road, lanes = scenario.road, len(scenario.road.lanes)
    per_lane = -(-count // lanes)
    room = int(road.length_m / MIN_VEHICLE_SPACING_M) + 1
    if per_lane > room:
        raise ValueError(f"{count} vehicles do not fit {lanes} lane(s) of {road.length_m:g} m")
    spacing = road.length_m / per_lane
    initial = tuple(
        InitialVehicle(road.x_min_m + spacing * (i // lanes + 0.5), i % lanes, "car")
        for i in range(count)
    )
    speed = max(scenario.traffic.speed.mean_mps, 1e-3)
    traffic = replace(
        scenario.traffic,
        initial_vehicles=initial,
        arrival_rate_per_lane_per_s=count * speed / (road.length_m * lanes),
    )
    return replace(scenario, traffic=traffic)


def with_v2x_share(scenario: Scenario, share: float) -> Scenario:
    """``scenario`` with ``share`` of its vehicles sending their own reports (V2xConfig)."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the share of vehicles sending reports must be in [0, 1], got {share:g}")
    return replace(scenario, v2x=replace(scenario.v2x, equipped_share=float(share)))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file; errors name the file and the key."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_SCENARIO_BYTES + 1)
    except OSError as exc:
        raise SchemaError(f"scenario {path}: cannot read: {exc.strerror}") from exc
    if len(data) > MAX_SCENARIO_BYTES:
        raise SchemaError(f"scenario {path}: larger than {MAX_SCENARIO_BYTES >> 20} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SchemaError(f"scenario {path}: not UTF-8 text") from None
    try:
        scenario = from_dict(Scenario, load_yaml(text))
    except SchemaError as exc:
        raise SchemaError(f"scenario {path.name}: {exc}") from None
    if scenario.name != path.stem:
        raise SchemaError(
            f"scenario {path.name}: key 'name' = {scenario.name!r} must match the file name "
            f"{path.stem!r}"
        )
    return scenario


def scenario_names(directory: str | Path) -> list[str]:
    """Names of the scenario files in ``directory``."""
    return sorted(p.stem for p in Path(directory).glob("*.yaml"))


def load_named_scenario(name: str, directory: str | Path) -> Scenario:
    """Load ``<directory>/<name>.yaml``; an unknown name fails with the list of valid ones."""
    path = Path(directory) / f"{name}.yaml"
    if not path.is_file():
        valid = ", ".join(scenario_names(directory)) or "(none)"
        raise SchemaError(f"unknown scenario '{name}'; valid scenarios: {valid}")
    return load_scenario(path)


def resolve_scenario(value: str, directory: str | Path) -> Scenario:
    """A scenario given by name (a file in ``directory``) or by path (ends in .yaml or
    contains a /): the one rule of every command, node parameter and launch argument."""
    if value.endswith(".yaml") or "/" in value:
        return load_scenario(Path(value))
    return load_named_scenario(value, directory)
