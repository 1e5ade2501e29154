"""Energy per byte moved, by kind of link, from published figures (kWh/GB, low-central-high).

These are *average* intensities (a network's energy divided by its traffic),
the way the cited studies report them. Network power is largely independent
of traffic in the short run (Mytton, Lundén and Malmodin, 2024), so the
marginal energy of a few extra gigabytes is lower than these averages: the
figures allocate a network's energy to its users by volume, which is what a
footprint comparison between moving data and moving models needs, but they
are not a measurement of what one transfer adds to a meter.

Sources (each range is the span of the figures for that scope):

* [aslan2018] J. Aslan, K. Mayers, J. G. Koomey, C. France, "Electricity
  Intensity of Internet Data Transmission: Untangling the Estimates",
  Journal of Industrial Ecology 22(4):785-798, 2018, doi:10.1111/jiec.12630:
  0.06 kWh/GB end-to-end fixed-line (2015), 0.004 kWh/GB Internet core
  (2015); halving about every two years since 2000.
* [krug2014] L. Krug, M. Shackleton, F. Saffre, "Understanding the
  environmental costs of fixed line networking", ACM e-Energy 2014,
  doi:10.1145/2602044.2602057: 0.14 kWh/GB end-to-end (2012 data).
* [eu2020] European Commission study on the ICT impact (2020), as summarised
  in the Scope3 data-transfer methodology (methodology.scope3.com/data_transfer):
  0.03 kWh/GB fixed, 0.14 kWh/GB mobile.
* [bs-density] "Base Station Energy Use in Dense Urban and Suburban Areas",
  as summarised by Scope3: radio access 0.104 kWh/GB (4G), 0.0104 kWh/GB (5G).
* [ran-bottom-up] "Power consumption evaluation of mobile radio access
  networks using a bottom-up approach", as summarised by Scope3: 10 kbit/J
  for 4G base stations (0.23 kWh/GB); 5G 3-4x better (about 0.06 kWh/GB).
* [ccf] Cloud Carbon Footprint methodology (cloudcarbonfootprint.org, Thoughtworks):
  0.001 kWh/GB for traffic between hyperscale data centres, "the smallest
  coefficient available".
* [mytton2024] D. Mytton, D. Lundén, J. Malmodin, "Network energy use not
  directly proportional to data volume: The power model approach for more
  reliable network energy consumption calculations", Journal of Industrial
  Ecology 28(4):966-980, 2024, doi:10.1111/jiec.13512 (why averages overstate
  the marginal energy).

Wi-Fi: no cited per-byte figure isolates the home Wi-Fi hop; the access
router's power is almost constant [mytton2024], so Wi-Fi uses the fixed-line
range (the Wi-Fi hop adds little per byte, and its always-on power is not
caused by the transfer).
"""

from __future__ import annotations

from dataclasses import dataclass

from vatio.errors import InputError

J_PER_KWH = 3.6e6
BYTES_PER_GB = 1e9


@dataclass(frozen=True)
class LinkFigure:
    name: str
    scope: str
    low_kwh_per_gb: float
    central_kwh_per_gb: float
    high_kwh_per_gb: float
    sources: tuple[str, ...]
    note: str = ""
    costly: bool = False  # metered or energy-hungry per byte (§4.1: "unstable or costly links")

    def j_per_byte(self) -> tuple[float, float, float]:
        """Low, central and high joules per byte."""
        k = J_PER_KWH / BYTES_PER_GB
        return (self.low_kwh_per_gb * k, self.central_kwh_per_gb * k, self.high_kwh_per_gb * k)

    def to_dict(self) -> dict:
        low, central, high = self.j_per_byte()
        return {
            "link": self.name,
            "scope": self.scope,
            "kwh_per_gb": {
                "low": self.low_kwh_per_gb,
                "central": self.central_kwh_per_gb,
                "high": self.high_kwh_per_gb,
            },
            "j_per_byte": {"low": low, "central": central, "high": high},
            "sources": list(self.sources),
            "note": self.note,
        }


LINKS: dict[str, LinkFigure] = {
    "wired": LinkFigure(
        "wired",
        "fixed-line access and core network, end to end",
        0.004,
        0.03,
        0.14,
        ("aslan2018", "eu2020", "krug2014"),
        "central: 2020 EU figure; low: Internet core alone (2015); high: 2012 end to end",
    ),
    "wifi": LinkFigure(
        "wifi",
        "home or office Wi-Fi, then fixed line",
        0.004,
        0.03,
        0.14,
        ("aslan2018", "eu2020", "krug2014", "mytton2024"),
        "fixed-line range: no cited figure isolates the Wi-Fi hop, whose power is near constant",
    ),
    "4g": LinkFigure(
        "4g",
        "mobile radio access (4G) and the network behind it",
        0.104,
        0.14,
        0.23,
        ("bs-density", "eu2020", "ran-bottom-up"),
        "central: 2020 EU mobile figure; low: base stations alone; high: bottom-up RAN model",
        costly=True,
    ),
    "5g": LinkFigure(
        "5g",
        "mobile radio access (5G)",
        0.0104,
        0.03,
        0.06,
        ("bs-density", "ran-bottom-up"),
        "central: geometric middle of the base-station and bottom-up figures",
        costly=True,
    ),
    "datacenter": LinkFigure(
        "datacenter",
        "between data centres on a provider's own fibre",
        0.001,
        0.001,
        0.004,
        ("ccf", "aslan2018"),
        "high: the Internet core figure of 2015",
    ),
}

REFERENCES = {
    "aslan2018": "Aslan, Mayers, Koomey, France (2018), J. Ind. Ecol. 22(4):785-798, "
    "doi:10.1111/jiec.12630",
    "krug2014": "Krug, Shackleton, Saffre (2014), ACM e-Energy, doi:10.1145/2602044.2602057",
    "eu2020": "European Commission ICT impact study (2020), via "
    "methodology.scope3.com/data_transfer",
    "bs-density": "Base Station Energy Use in Dense Urban and Suburban Areas, via "
    "methodology.scope3.com/data_transfer",
    "ran-bottom-up": "Power consumption evaluation of mobile radio access networks using a "
    "bottom-up approach, via methodology.scope3.com/data_transfer",
    "ccf": "Cloud Carbon Footprint methodology, cloudcarbonfootprint.org/docs/methodology",
    "mytton2024": "Mytton, Lundén, Malmodin (2024), J. Ind. Ecol. 28(4):966-980, "
    "doi:10.1111/jiec.13512",
}


def link(name: str) -> LinkFigure:
    try:
        return LINKS[name.lower()]
    except KeyError:
        raise InputError(
            f"Unknown link type {name!r}.", f"Choose one of: {', '.join(LINKS)}."
        ) from None
