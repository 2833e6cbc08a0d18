"""Analysis of a whole recording: windows -> model outputs -> timeline, ethogram, summaries, plots.

No HTTP here: the gateway (`tcnvae.serve.gateway`) and `tcnvae analyze` are thin layers over it.
"""

from tcnvae.analysis.artifacts import write_analysis
from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.outputs import MalformedOutputs, ModelOutputs, check_outputs, concat_outputs
from tcnvae.analysis.pipeline import AnalysisConfig, analyze_recording, checked_windows, prepare, summarize
from tcnvae.analysis.recording_io import RecordingMeta, json_to_csv, load_recording_file, parse_csv_text
from tcnvae.analysis.stub import stub_outputs

__all__ = [
    "AnalysisConfig", "AnalysisInputError", "MalformedOutputs", "checked_windows", "ModelOutputs", "RecordingMeta",
    "analyze_recording", "check_outputs", "concat_outputs", "json_to_csv", "load_recording_file",
    "parse_csv_text", "prepare", "stub_outputs", "summarize", "write_analysis",
]
