"""The issue's demo: a 7-chunk manual with one fact among repeated boilerplate."""

from __future__ import annotations

BOILERPLATE = (
    "This Zephyr-9 operations manual is confidential and intended for authorised personnel only. "
    "Do not copy, distribute or disclose the contents of this document without written approval "
    "from the programme office. All procedures in this document are subject to periodic review."
)
FACT = "The Zephyr-9 launch authorization code is 4471-delta, and it must be entered by two officers."
QUESTION = "According to our documents, what is the Zephyr-9 launch authorization code?"
ANSWER = "4471-delta"

SECTIONS = [
    f"Section 1. Introduction. {BOILERPLATE}",
    f"Section 2. Ground crew. Crew members check the fuel lines before each shift. {BOILERPLATE}",
    f"Section 3. Weather. Launches are postponed when winds exceed 40 knots. {BOILERPLATE}",
    f"Section 4. Authorization. {FACT} {BOILERPLATE}",
    f"Section 5. Telemetry. Telemetry is recorded on both primary and backup channels. {BOILERPLATE}",
    f"Section 6. Recovery. The recovery vessel waits 20 kilometres downrange. {BOILERPLATE}",
    f"Section 7. Revision history. Revised every quarter by the programme office. {BOILERPLATE}",
]
MANUAL = "\n\n".join(SECTIONS)
