"""Datasets of examples for tests, evaluation suites and training.

:func:`load_dataset` reads JSON Lines, JSON, CSV, Parquet and Hugging Face datasets
saved with ``save_to_disk``, maps columns onto the fields of the input and output
DataModels, validates every row, and gives each example a stable id. A bad row
raises :class:`~synatest.errors.DatasetError` naming the file, the line or row, the
field and the reason.

Why not Synalinks' own ``JSONLDataset``/``CSVDataset``/...: they stream batches
rendered through Jinja templates, which suits ``fit`` on large sources but loses
where a bad row came from and gives examples no identity. Tests and gates need
both (an example that flipped must be named). :meth:`Dataset.as_arrays` gives the
numpy object arrays that ``program.fit``/``evaluate`` take.

Module import is light: pyarrow, Hugging Face ``datasets`` and numpy are imported
only by the loaders/methods that need them.
"""

from synatest.datasets.dataset import Dataset, Example
from synatest.datasets.load import FORMATS, content_id, load_dataset
from synatest.datasets.parametrize import parametrize_dataset, readable_id

__all__ = [
    "FORMATS",
    "Dataset",
    "Example",
    "content_id",
    "load_dataset",
    "parametrize_dataset",
    "readable_id",
]
