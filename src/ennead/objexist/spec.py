"""Registration of the ObjExist system (entry point ``ennead.systems``)."""

from ennead.core.systems import SystemSpec

SPEC = SystemSpec(
    name="objexist",
    summary="ObjExist: is the queried object on the table? Active perception with occlusion "
    "reasoning (NumPy ray-cast tabletop, recurrent policy, SL + RL curriculum)",
    cli="ennead.objexist.cli:app",
    demo="ennead.objexist.api:tour_demo",
    claims="ennead.objexist.claims:claims",
    extra="objexist",
    paper=(
        "Li, Weber, Kerzel, Lee, Zeng, Liu, Wermter. Robotic Occlusion Reasoning for Efficient "
        "Object Existence Prediction. IROS 2021, arXiv:2107.12095."
    ),
    tags=("robotics", "reinforcement-learning", "active-perception", "gymnasium"),
)
