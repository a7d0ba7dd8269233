"""ROS 2 (ament_python) packaging of rsu_isac.

colcon builds this into ``install/rsu_isac``: node executables go to ``lib/rsu_isac`` (see
setup.cfg) for ``ros2 run`` and launch ``Node(...)``; the repository's top-level ``launch/``
and ``config/`` (symlinked here) go to ``share/rsu_isac``. The repository's own set-up
(``scripts/setup.sh``) also installs this package editable into the venv, which provides the
``rsu-isac`` command.
"""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "rsu_isac"


def _tree(folder: str) -> list[tuple[str, list[str]]]:
    """Data-file entries that install ``folder`` (a symlink to the top level) recursively."""
    entries: dict[str, list[str]] = {}
    for path in sorted(glob(f"{folder}/**/*", recursive=True)):
        if path.endswith((".yaml", ".py", ".xml", ".md")):
            subdir = path.rsplit("/", 1)[0]
            entries.setdefault(f"share/{PACKAGE}/{subdir}", []).append(path)
    return sorted(entries.items())


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "tests"]),
    package_data={
        PACKAGE: [f"learning/checkpoints/{d}*.{e}" for d in ("*/", "*/*/") for e in ("json", "pt")]
    },
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *_tree("launch"),
        *_tree("config"),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="rsu_isac developers",
    maintainer_email="rsu-isac@example.org",
    description="Roadside-unit ISAC stack: physics core, simulator and ROS 2 nodes.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "rsu-isac = rsu_isac.cli:main",
            "traffic_sim = rsu_isac.nodes.traffic_sim:main",
            "radar_processing = rsu_isac.nodes.radar_processing:main",
            "ekf_tracker = rsu_isac.nodes.ekf_tracker:main",
            "beamforming_policy = rsu_isac.nodes.beamforming_policy:main",
            "camera_semantics = rsu_isac.nodes.camera_semantics:main",
            "aoi_scheduler = rsu_isac.nodes.aoi_scheduler:main",
        ],
        # learned policies, found by name by beamforming.policies.create_policy
        "rsu_isac.policies": [
            "spiking_ac = rsu_isac.learning.policy:spiking_ac_policy",
            "ppo = rsu_isac.learning.policy:ppo_policy",
            "ddpg = rsu_isac.learning.policy:ddpg_policy",
            "ddpg_mo = rsu_isac.learning.policy:ddpg_mo_policy",
            "dqn = rsu_isac.learning.policy:dqn_policy",
            "random = rsu_isac.learning.policy:random_policy",
            "hmoe = rsu_isac.learning.hmoe:hmoe_policy",
            "bilstm = rsu_isac.learning.bilstm:bilstm_policy",
        ],
    },
)
