"""A task for the ``archs apply`` tests with arch-tok2vec alone installed: the case
tagger of folder_task.py, with what apply needs (annotate, record, conllu).
Imported by the tests and by apply_driver.py, which the tests run as a process."""

from pathlib import Path
from typing import Any, Dict, List

from folder_task import CONFIG, CaseTask
from thinc.api import Config

from arch_tok2vec import registry
from arch_tok2vec.annotations import set_tags, tags
from arch_tok2vec.training import train


class CaseApplyTask(CaseTask):
    """Tags each token "Upper" or "lower" (as XPOS), and writes them as ``case``."""

    name = "case"
    provides = ("tags",)

    def annotate(self, docs: Any, predictions: Any) -> None:
        for doc, predicted in zip(docs, predictions):
            set_tags(doc, predicted, "xpos")

    def record(self, doc: Any) -> Dict[str, Any]:
        return {"case": tags(doc, "xpos")}

    def conllu(self, doc: Any) -> Dict[str, List[str]]:
        return {"XPOS": tags(doc, "xpos")}


if "test.case_apply.v1" not in registry.tasks:
    registry.tasks.register("test.case_apply.v1", func=CaseApplyTask)


def case_model(folder: Path, epochs: int = 3, seed: int = 0) -> Path:
    """Train a case model into ``folder`` and return its model-last folder."""
    text = CONFIG.format(seed=seed, epochs=epochs).replace("test.case.v1", "test.case_apply.v1")
    train(Config().from_str(text), folder, log=lambda line: None, progress=False)
    return folder / "model-last"
