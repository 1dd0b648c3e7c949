"""Every public name of the `cog` SDK, per Cog release, is importable from cognix's shim (with Cog's behaviour).

INVENTORY was read from the `cog` wheels on PyPI (0.8.6, 0.9.26, 0.10.0a27 (0.10 was only released as alphas),
0.13.7, 0.16.12, 0.23.1; the same modules as python/cog/ in replicate/cog at those tags): for each module of the
package, the names it defines or re-exports from cog, not starting with `_` (for `cog` itself: its __all__). Names of
the old FastAPI server's internals are LEFT_OUT, each with the reason; every other row must import.
"""

from __future__ import annotations

import importlib
import io
import os
import textwrap
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from cognix.runtime.shim import SHIM_DIR, install_shim

install_shim()

INVENTORY: Dict[str, Dict[str, str]] = {
    "0.8": {
        "cog": "BaseModel BasePredictor ConcatenateIterator File Input Path __version__",
        "cog.command": "",
        "cog.command.ast_openapi_schema": (
            "BASE_SCHEMA BASE_TYPES KEPT_ATTRS OPENAPI_TYPES ast extract_file extract_info find get_annotation "
            "get_call_name get_value parse_args parse_assignment parse_class parse_return_annotation resolve_name"
        ),
        "cog.command.openapi_schema": "ConfigDoesNotExist PredictorNotSet create_app load_config suppress_output",
        "cog.errors": "CogError ConfigDoesNotExist PredictorNotSet",
        "cog.files": "ensure_trailing_slash guess_filename put_file_to_signed_endpoint upload_file",
        "cog.json": "Path make_encodeable upload_files",
        "cog.logging": "replace_level_with_severity setup_logging",
        "cog.predictor": (
            "ALLOWED_INPUT_TYPES BaseInput BasePredictor CogFile CogPath ConfigDoesNotExist Input PredictorNotSet "
            "URLPath get_input_type get_output_type get_predict get_predictor_ref get_weights_type "
            "human_readable_type_name load_config load_predictor load_predictor_from_ref readable_types_list "
            "run_prediction run_setup"
        ),
        "cog.schema": "PredictionBaseModel PredictionRequest PredictionResponse Status WebhookEvent",
        "cog.server": "",
        "cog.server.eventtypes": "Done Heartbeat Log PredictionInput PredictionOutput PredictionOutputType Shutdown",
        "cog.server.exceptions": "CancelationException FatalWorkerException InvalidStateException",
        "cog.server.helpers": "StreamRedirector WrappedStream",
        "cog.server.http": (
            "Health PredictionRunner RunnerBusyError Server UnknownPredictionError create_app get_input_type "
            "get_output_type get_predictor_ref is_port_in_use load_config load_predictor_from_ref schema "
            "setup_logging signal_ignore signal_set_event upload_file upload_files"
        ),
        "cog.server.probes": "PathLike ProbeHelper",
        "cog.server.response_throttler": "ResponseThrottler Status",
        "cog.server.runner": (
            "Done FileUploadError Heartbeat Log PredictionEventHandler PredictionOutput PredictionOutputType "
            "PredictionRunner ProbeHelper RunnerBusyError UnknownPredictionError Worker create_event_handler "
            "generate_file_uploader predict put_file_to_signed_endpoint schema setup types upload_files "
            "webhook_caller_filtered"
        ),
        "cog.server.webhook": (
            "ResponseThrottler Status WebhookEvent requests_session requests_session_with_retries webhook_caller "
            "webhook_caller_filtered"
        ),
        "cog.server.worker": (
            "BasePredictor CancelationException Done FatalWorkerException Heartbeat InvalidStateException Log "
            "PredictionInput PredictionOutput PredictionOutputType Shutdown StreamRedirector Worker WorkerState "
            "WrappedStream get_predict load_predictor_from_ref make_encodeable run_setup"
        ),
        "cog.suppress_output": "suppress_output",
        "cog.types": (
            "ConcatenateIterator FILENAME_ILLEGAL_CHARS FILENAME_MAX_LENGTH File Input Item Path URLFile URLPath "
            "get_filename"
        ),
    },
    "0.9": {
        "cog": "BaseModel BasePredictor ConcatenateIterator File Input Path Secret __version__",
        "cog.code_xforms": (
            "COG_IMPORT_MODULES extract_class_source extract_function_return_type extract_function_source "
            "extract_method_return_type extract_specific_imports load_module_from_string make_class_methods_empty "
            "make_function_empty strip_model_source_code"
        ),
        "cog.command": "",
        "cog.command.ast_openapi_schema": (
            "AstVal AstValNoBytes BASE_SCHEMA BASE_TYPES JSONDict JSONObject KEPT_ATTRS OPENAPI_TYPES ast "
            "extract_file extract_info find get_annotation get_call_name get_value parse_args parse_assignment "
            "parse_class parse_return_annotation resolve_name to_serializable"
        ),
        "cog.command.openapi_schema": (
            "CogError ConfigDoesNotExist PredictorNotSet Status create_app load_config remove_title_next_to_ref "
            "suppress_output"
        ),
        "cog.errors": "CogError ConfigDoesNotExist PredictorNotSet",
        "cog.files": "ensure_trailing_slash guess_filename put_file_to_signed_endpoint upload_file",
        "cog.json": "Path make_encodeable upload_files",
        "cog.logging": "replace_level_with_severity setup_logging",
        "cog.predictor": (
            "ALLOWED_INPUT_TYPES BaseInput BasePredictor CogConfig CogFile CogPath CogSecret ConfigDoesNotExist "
            "Input PredictorNotSet URLPath get_input_create_model_kwargs get_input_type get_output_type "
            "get_predict get_predictor get_predictor_ref get_train get_training_input_type "
            "get_training_output_type get_weights_type human_readable_type_name load_config "
            "load_full_predictor_from_file load_module_from_string load_predictor load_predictor_from_ref "
            "load_slim_predictor_from_file load_slim_predictor_from_ref readable_types_list run_setup "
            "strip_model_source_code validate_input_type"
        ),
        "cog.schema": (
            "BUNDLED_SCHEMA_PATH PredictionBaseModel PredictionRequest PredictionResponse Status TrainingRequest "
            "TrainingResponse WebhookEvent create_schema_module"
        ),
        "cog.server": "",
        "cog.server.errors": (
            "CogRuntimeError CogServerError CogTimeoutError FileUploadError RunnerBusyError "
            "UnknownPredictionError"
        ),
        "cog.server.eventtypes": "Done Log PredictionInput PredictionOutput PredictionOutputType Shutdown",
        "cog.server.exceptions": "CancelationException FatalWorkerException InvalidStateException",
        "cog.server.helpers": "CogRuntimeError CogTimeoutError StreamRedirector",
        "cog.server.http": (
            "CogConfig Health MyFastAPI MyState PredictionRunner PredictorNotSet ProbeHelper RunnerBusyError "
            "Server SetupResult UnknownPredictionError add_setup_failed_routes create_app get_input_type "
            "get_output_type get_predictor_ref get_training_input_type get_training_output_type is_port_in_use "
            "load_config load_slim_predictor_from_ref make_trace_context make_worker schema setup_logging "
            "signal_ignore signal_set_event trace_context upload_file upload_files"
        ),
        "cog.server.probes": "PathLike ProbeHelper",
        "cog.server.response_throttler": "PredictionResponse ResponseThrottler Status",
        "cog.server.runner": (
            "BaseInput Done FileUploadError Log PredictTask PredictionOutput PredictionOutputType "
            "PredictionRunner RunnerBusyError SKIP_START_EVENT SetupResult SetupTask Task UnknownPredictionError "
            "Worker current_trace_context generate_file_uploader get_user_agent put_file_to_signed_endpoint "
            "schema upload_files webhook_caller_filtered"
        ),
        "cog.server.telemetry": "TRACE_CONTEXT TraceContext current_trace_context make_trace_context trace_context",
        "cog.server.useragent": "get_user_agent",
        "cog.server.webhook": (
            "PredictionResponse ResponseThrottler SKIP_START_EVENT Status WebhookEvent current_trace_context "
            "get_user_agent requests_session requests_session_with_retries webhook_caller webhook_caller_filtered"
        ),
        "cog.server.worker": (
            "BasePredictor CancelationException ChildWorker Done FatalWorkerException InvalidStateException "
            "LockedConn Log PredictionInput PredictionOutput PredictionOutputType Shutdown StreamRedirector "
            "URLPath Worker WorkerState get_predict load_predictor_from_ref make_encodeable make_worker run_setup"
        ),
        "cog.suppress_output": "suppress_output",
        "cog.types": (
            "CogBuildConfig CogConfig ConcatenateIterator FILENAME_ILLEGAL_CHARS FILENAME_MAX_LENGTH File Input "
            "Item Path Secret URLFile URLPath get_filename"
        ),
    },
    "0.10": {
        "cog": (
            "AsyncConcatenateIterator BaseModel BasePredictor ConcatenateIterator File Input Path Secret "
            "__version__ emit_metric"
        ),
        "cog.command": "",
        "cog.command.ast_openapi_schema": (
            "AstVal AstValNoBytes BASE_SCHEMA BASE_TYPES JSONDict JSONObject KEPT_ATTRS OPENAPI_TYPES ast "
            "extract_file extract_info find get_annotation get_call_name get_value parse_args parse_assignment "
            "parse_class parse_return_annotation resolve_name to_serializable"
        ),
        "cog.command.openapi_schema": (
            "CogError ConfigDoesNotExist PredictorNotSet Status create_app load_config suppress_output"
        ),
        "cog.errors": "CogError ConfigDoesNotExist PredictorNotSet",
        "cog.json": "make_encodeable",
        "cog.logging": "replace_level_with_severity setup_logging",
        "cog.mimetypes_ext": "IMimeTypes install_mime_extensions",
        "cog.predictor": (
            "ALLOWED_INPUT_TYPES BaseInput BasePredictor CogFile CogPath CogSecret ConfigDoesNotExist Input "
            "PredictorNotSet get_input_create_model_kwargs get_input_type get_output_type get_predict "
            "get_predictor_ref get_train get_training_input_type get_training_output_type get_weights_argument "
            "get_weights_type human_readable_type_name load_config load_predictor load_predictor_from_ref "
            "readable_types_list run_prediction run_setup run_setup_async validate_input_type"
        ),
        "cog.schema": (
            "PredictionBaseModel PredictionRequest PredictionResponse Status TrainingRequest TrainingResponse "
            "WebhookEvent"
        ),
        "cog.server": "",
        "cog.server.clients": (
            "ChunkFileReader ClientManager Path PredictionInput PredictionResponse ResponseThrottler "
            "RetryTransport SKIP_START_EVENT Status WebhookEvent WebhookSenderType common_headers "
            "current_trace_context file_to_data_uri httpx_file_client httpx_retry_client httpx_webhook_client "
            "on_request_trace_context_hook types webhook_headers"
        ),
        "cog.server.connection": "AsyncConnection",
        "cog.server.eventtypes": (
            "Cancel Done Heartbeat Log PredictionInput PredictionMetric PredictionOutput PredictionOutputType "
            "PublicEventType Shutdown schema"
        ),
        "cog.server.exceptions": "CancelationException FatalWorkerException InvalidStateException",
        "cog.server.helpers": "StreamRedirector WrappedStream",
        "cog.server.http": (
            "Health MyFastAPI MyState PredictionRunner RunnerBusyError Server SetupResult SetupTask "
            "UnknownPredictionError add_setup_failed_routes create_app get_input_type get_output_type "
            "get_predictor_ref get_training_input_type get_training_output_type is_port_in_use load_config "
            "load_predictor_from_ref make_trace_context schema setup_logging signal_ignore signal_set_event "
            "trace_context"
        ),
        "cog.server.probes": "PathLike ProbeHelper",
        "cog.server.response_throttler": "PredictionResponse ResponseThrottler Status",
        "cog.server.retry_transport": "RetryTransport",
        "cog.server.runner": (
            "AsyncConnection Cancel ClientManager Done FatalWorkerException FileUploadError Heartbeat "
            "InvalidStateException Log Mux PredictionEventHandler PredictionInput PredictionMetric "
            "PredictionOutput PredictionOutputType PredictionRunner PredictionTask ProbeHelper PublicEventType "
            "RunnerBusyError RunnerTask SKIP_START_EVENT SetupResult SetupTask Shutdown TimeShareTracker "
            "UnknownPredictionError WorkerState schema types"
        ),
        "cog.server.telemetry": "TRACE_CONTEXT TraceContext current_trace_context make_trace_context trace_context",
        "cog.server.worker": (
            "AsyncConnection BasePredictor Cancel CancelationException Done FatalWorkerException Heartbeat Log "
            "Mux PredictionInput PredictionMetric PredictionOutput PredictionOutputType PublicEventType Shutdown "
            "StreamRedirector WorkerState WrappedStream emit_metric get_loop get_predict is_async "
            "is_async_predictor load_predictor_from_ref make_encodeable run_setup run_setup_async "
            "worker_reference"
        ),
        "cog.suppress_output": "suppress_output",
        "cog.types": (
            "AsyncConcatenateIterator ConcatenateIterator DataURLTempFilePath FILENAME_ILLEGAL_CHARS "
            "FILENAME_MAX_LENGTH File Input Item Path Secret URLFile URLTempFile get_filename_from_url "
            "get_filename_from_urlopen"
        ),
    },
    "0.13": {
        "cog": (
            "AsyncConcatenateIterator BaseModel BasePredictor ConcatenateIterator ExperimentalFeatureWarning File "
            "Input Path Secret __version__ current_scope emit_metric"
        ),
        "cog.base_input": "BaseInput PYDANTIC_V2 URLPath",
        "cog.base_predictor": "BasePredictor Weights",
        "cog.code_xforms": (
            "COG_IMPORT_MODULES extract_class_sources extract_function_return_types extract_function_source "
            "extract_method_return_type extract_specific_imports load_module_from_string make_class_methods_empty "
            "make_function_empty strip_model_source_code"
        ),
        "cog.command": "",
        "cog.command.ast_openapi_schema": (
            "AstVal AstValNoBytes BASE_SCHEMA BASE_TYPES JSONDict JSONObject KEPT_ATTRS OPENAPI_TYPES ast "
            "extract_file extract_info find get_annotation get_call_name get_value parse_args parse_assignment "
            "parse_class parse_return_annotation resolve_name to_serializable"
        ),
        "cog.command.openapi_schema": (
            "CogError Config ConfigDoesNotExist PredictorNotSet Status create_app remove_title_next_to_ref "
            "suppress_output"
        ),
        "cog.config": (
            "BaseInput BasePredictor COG_GPU_ENV_VAR COG_MAX_CONCURRENCY_ENV_VAR COG_PREDICT_CODE_STRIP_ENV_VAR "
            "COG_PREDICT_TYPE_STUB_ENV_VAR COG_TRAIN_CODE_STRIP_ENV_VAR COG_TRAIN_TYPE_STUB_ENV_VAR COG_YAML_FILE "
            "CogConfig Config ConfigDoesNotExist Mode PREDICT_METHOD_NAME TRAIN_METHOD_NAME env_property "
            "get_input_type get_output_type get_predict get_predictor get_train get_training_input_type "
            "get_training_output_type load_full_predictor_from_file load_module_from_string "
            "strip_model_source_code wait_for_env"
        ),
        "cog.env_property": "env_property",
        "cog.errors": "CogError ConfigDoesNotExist PredictorNotSet",
        "cog.files": "ensure_trailing_slash guess_filename put_file_to_signed_endpoint upload_file",
        "cog.json": "PYDANTIC_V2 Path make_encodeable upload_files",
        "cog.logging": "replace_level_with_severity setup_logging",
        "cog.mimetypes_ext": "IMimeTypes install_mime_extensions",
        "cog.mode": "Mode",
        "cog.predictor": (
            "ALLOWED_INPUT_TYPES BaseInput BasePredictor CogFile CogPath CogSecret Input PYDANTIC_V2 Weights "
            "extract_setup_weights get_input_create_model_kwargs get_input_type get_output_type get_predict "
            "get_predictor get_train get_training_input_type get_training_output_type get_weights_type "
            "has_setup_weights human_readable_type_name load_full_predictor_from_file load_module_from_string "
            "load_predictor_from_ref load_slim_predictor_from_file readable_types_list strip_model_source_code "
            "validate_input_type"
        ),
        "cog.schema": (
            "BUNDLED_SCHEMA_PATH PYDANTIC_V2 PredictionBaseModel PredictionRequest PredictionResponse Status "
            "TrainingRequest TrainingResponse WebhookEvent WebhookUrl create_schema_module"
        ),
        "cog.server": "",
        "cog.server.connection": "AsyncConnection Buffer LockedConnection",
        "cog.server.errors": (
            "CogRuntimeError CogServerError CogTimeoutError FileUploadError RunnerBusyError "
            "UnknownPredictionError"
        ),
        "cog.server.eventtypes": (
            "Cancel Done Envelope Log PredictionInput PredictionMetric PredictionOutput PredictionOutputType "
            "Shutdown"
        ),
        "cog.server.exceptions": "CancelationException FatalWorkerException InvalidStateException",
        "cog.server.helpers": (
            "CogRuntimeError CogTimeoutError PYDANTIC_V2 SimpleStreamRedirector StreamRedirector "
            "unwrap_pydantic_serialization_iterators update_openapi_schema_for_pydantic_2"
        ),
        "cog.server.http": (
            "Config Health Mode MyFastAPI MyState PYDANTIC_V2 PredictionRunner PredictorNotSet ProbeHelper "
            "RunnerBusyError Server SetupResult UnknownPredictionError add_setup_failed_routes create_app "
            "is_port_in_use make_trace_context make_worker schema setup_logging signal_ignore signal_set_event "
            "trace_context unwrap_pydantic_serialization_iterators update_openapi_schema_for_pydantic_2 "
            "upload_file upload_files"
        ),
        "cog.server.probes": "PathLike ProbeHelper",
        "cog.server.response_throttler": "PredictionResponse ResponseThrottler Status",
        "cog.server.runner": (
            "BaseInput Done FileUploadError Log PYDANTIC_V2 PredictTask PredictionMetric PredictionOutput "
            "PredictionOutputType PredictionRunner RunnerBusyError SKIP_START_EVENT SetupResult SetupTask Task "
            "UnknownPredictionError Worker current_trace_context generate_file_uploader get_user_agent "
            "put_file_to_signed_endpoint schema unwrap_pydantic_serialization_iterators upload_files "
            "webhook_caller_filtered"
        ),
        "cog.server.scope": "ExperimentalFeatureWarning Scope current_scope emit_metric evolve_scope scope",
        "cog.server.telemetry": "TRACE_CONTEXT TraceContext current_trace_context make_trace_context trace_context",
        "cog.server.useragent": "get_user_agent",
        "cog.server.webhook": (
            "PYDANTIC_V2 PredictionResponse ResponseThrottler SKIP_START_EVENT Status WebhookEvent "
            "current_trace_context get_user_agent requests_session requests_session_with_retries webhook_caller "
            "webhook_caller_filtered"
        ),
        "cog.server.worker": (
            "AsyncConnection BasePredictor Cancel CancelRequest CancelationException Done Envelope "
            "FatalWorkerException InvalidStateException LockedConnection Log PYDANTIC_V2 PredictionInput "
            "PredictionMetric PredictionOutput PredictionOutputType PredictionRequest PredictionState Scope "
            "Shutdown SimpleStreamRedirector StreamRedirector URLPath Worker WorkerState evolve_scope "
            "extract_setup_weights get_predict has_setup_weights load_predictor_from_ref make_encodeable "
            "make_worker scope unwrap_pydantic_serialization_iterators wait_for_env"
        ),
        "cog.suppress_output": "suppress_output",
        "cog.types": (
            "AsyncConcatenateIterator CogBuildConfig CogConcurrencyConfig CogConfig ConcatenateIterator "
            "ExperimentalFeatureWarning FILENAME_ILLEGAL_CHARS FILENAME_MAX_LENGTH File Input Item PYDANTIC_V2 "
            "Path Secret URLFile URLPath Weights get_filename get_filename_from_urlopen"
        ),
        "cog.wait": (
            "COG_EAGER_IMPORTS_ENV_VAR COG_PYENV_PATH_ENV_VAR COG_WAIT_FILE_ENV_VAR PYTHONPATH_ENV_VAR "
            "PYTHON_VERSION_ENV_VAR eagerly_import_modules wait_for_env wait_for_file"
        ),
    },
    "0.16": {
        "cog": (
            "AsyncConcatenateIterator BaseModel BasePredictor ConcatenateIterator ExperimentalFeatureWarning File "
            "Input Path Secret __version__ current_scope"
        ),
        "cog.base_input": "BaseInput PYDANTIC_V2 URLPath",
        "cog.base_predictor": "BasePredictor Weights",
        "cog.code_xforms": (
            "COG_IMPORT_MODULES extract_class_sources extract_function_return_types extract_function_source "
            "extract_method_return_type extract_specific_imports load_module_from_string make_class_methods_empty "
            "make_function_empty strip_model_source_code"
        ),
        "cog.command": "",
        "cog.command.ast_openapi_schema": (
            "AstVal AstValNoBytes BASE_SCHEMA BASE_TYPES JSONDict JSONObject KEPT_ATTRS OPENAPI_TYPES ast "
            "extract_file extract_info find get_annotation get_call_name get_value parse_args parse_assignment "
            "parse_class parse_return_annotation resolve_name to_serializable"
        ),
        "cog.command.call_graph": "IncludeAnalyzer analyze_python_file main",
        "cog.command.migrate_v1_v1fast": "check find",
        "cog.command.openapi_schema": (
            "CogError Config ConfigDoesNotExist PredictorNotSet Status create_app remove_title_next_to_ref "
            "suppress_output"
        ),
        "cog.config": (
            "BaseInput BasePredictor COG_GPU_ENV_VAR COG_MAX_CONCURRENCY_ENV_VAR COG_PREDICT_CODE_STRIP_ENV_VAR "
            "COG_PREDICT_TYPE_STUB_ENV_VAR COG_TRAIN_CODE_STRIP_ENV_VAR COG_TRAIN_TYPE_STUB_ENV_VAR COG_YAML_FILE "
            "CogConfig Config ConfigDoesNotExist Mode PREDICT_METHOD_NAME TRAIN_METHOD_NAME env_property "
            "get_input_type get_output_type get_predict get_predictor get_train get_training_input_type "
            "get_training_output_type has_user_healthcheck load_full_predictor_from_file load_module_from_string "
            "strip_model_source_code wait_for_env"
        ),
        "cog.env_property": "env_property",
        "cog.errors": "CogError ConfigDoesNotExist PredictorNotSet",
        "cog.ext": "",
        "cog.files": "ensure_trailing_slash guess_filename put_file_to_signed_endpoint upload_file",
        "cog.json": "PYDANTIC_V2 make_encodeable upload_files",
        "cog.logging": "replace_level_with_severity setup_logging",
        "cog.mimetypes_ext": "IMimeTypes install_mime_extensions",
        "cog.mode": "Mode",
        "cog.predictor": (
            "ALLOWED_INPUT_TYPES BaseInput BasePredictor CogFile CogPath CogSecret Input PYDANTIC_V2 Weights "
            "extract_setup_weights get_healthcheck get_input_create_model_kwargs get_input_type get_output_type "
            "get_predict get_predictor get_train get_training_input_type get_training_output_type "
            "get_weights_type has_setup_weights has_user_healthcheck human_readable_type_name is_none is_optional "
            "is_union load_full_predictor_from_file load_module_from_string load_predictor_from_ref "
            "load_slim_predictor_from_file readable_types_list strip_model_source_code validate_input_type"
        ),
        "cog.schema": (
            "BUNDLED_SCHEMA_PATH PYDANTIC_V2 PredictionBaseModel PredictionRequest PredictionResponse Status "
            "TrainingRequest TrainingResponse WebhookEvent WebhookUrl create_schema_module"
        ),
        "cog.server": "",
        "cog.server.connection": "AsyncConnection Buffer LockedConnection",
        "cog.server.errors": (
            "CogRuntimeError CogServerError CogTimeoutError FileUploadError RunnerBusyError "
            "UnknownPredictionError"
        ),
        "cog.server.eventtypes": (
            "Cancel Done Envelope Healthcheck Log PredictionInput PredictionMetric PredictionOutput "
            "PredictionOutputType Shutdown"
        ),
        "cog.server.exceptions": "CancelationException FatalWorkerException InvalidStateException",
        "cog.server.helpers": (
            "CogRuntimeError CogTimeoutError PYDANTIC_V2 SimpleStreamRedirector StreamRedirector get_annotations "
            "is_none is_optional is_pydantic_model_type unwrap_pydantic_serialization_iterators "
            "update_nullable_optional update_openapi_schema_for_pydantic_2"
        ),
        "cog.server.http": (
            "Config Health Mode MyFastAPI MyState PYDANTIC_V2 PredictionRunner PredictorNotSet ProbeHelper "
            "RunnerBusyError Server SetupResult UnknownPredictionError add_setup_failed_routes create_app "
            "is_port_in_use make_trace_context make_worker schema setup_logging signal_ignore signal_set_event "
            "trace_context unwrap_pydantic_serialization_iterators update_nullable_optional "
            "update_openapi_schema_for_pydantic_2 upload_file upload_files"
        ),
        "cog.server.probes": "PathLike ProbeHelper",
        "cog.server.response_throttler": "PredictionResponse ResponseThrottler Status",
        "cog.server.runner": (
            "BaseInput Done FileUploadError Log PYDANTIC_V2 PredictTask PredictionMetric PredictionOutput "
            "PredictionOutputType PredictionRunner RunnerBusyError SKIP_START_EVENT SetupResult SetupTask Task "
            "UnknownPredictionError Worker current_trace_context generate_file_uploader get_user_agent "
            "put_file_to_signed_endpoint schema unwrap_pydantic_serialization_iterators upload_files "
            "webhook_caller_filtered"
        ),
        "cog.server.scope": "ExperimentalFeatureWarning Scope current_scope evolve_scope scope",
        "cog.server.telemetry": "TRACE_CONTEXT TraceContext current_trace_context make_trace_context trace_context",
        "cog.server.useragent": "get_user_agent",
        "cog.server.webhook": (
            "PYDANTIC_V2 PredictionResponse ResponseThrottler SKIP_START_EVENT Status WebhookEvent "
            "current_trace_context get_user_agent requests_session requests_session_with_retries webhook_caller "
            "webhook_caller_filtered"
        ),
        "cog.server.worker": (
            "AsyncConnection BasePredictor Cancel CancelRequest CancelationException Done Envelope "
            "FatalWorkerException HEALTHCHECK_TIMEOUT Healthcheck InvalidStateException LockedConnection Log "
            "PYDANTIC_V2 PredictionInput PredictionMetric PredictionOutput PredictionOutputType PredictionRequest "
            "PredictionState Scope Shutdown SimpleStreamRedirector StreamRedirector URLPath Worker WorkerState "
            "evolve_scope extract_setup_weights get_healthcheck get_predict get_train has_setup_weights "
            "load_predictor_from_ref make_encodeable make_worker scope unwrap_pydantic_serialization_iterators "
            "wait_for_env"
        ),
        "cog.suppress_output": "suppress_output",
        "cog.types": (
            "AsyncConcatenateIterator CogBuildConfig CogConcurrencyConfig CogConfig ConcatenateIterator "
            "ExperimentalFeatureWarning FILENAME_ILLEGAL_CHARS FILENAME_MAX_LENGTH File Input Item PYDANTIC_V2 "
            "Path Secret URLFile URLPath Weights get_filename get_filename_from_urlopen"
        ),
        "cog.wait": (
            "COG_EAGER_IMPORTS_ENV_VAR COG_PYENV_PATH_ENV_VAR COG_WAIT_FILE_ENV_VAR PYTHONPATH_ENV_VAR "
            "PYTHON_VERSION_ENV_VAR eagerly_import_modules wait_for_env wait_for_file"
        ),
    },
    "0.23": {
        "cog": (
            "AsyncConcatenateIterator BaseModel BasePredictor BaseRunner CancelationException ConcatenateIterator "
            "ExperimentalFeatureWarning FieldInfo File Input Opaque Path Secret URLFile URLPath __version__ "
            "concurrent current_scope emit_metric streaming"
        ),
        "cog.coder": "Coder",
        "cog.errors": "CogError ConfigDoesNotExist PredictorNotSet",
        "cog.input": "FieldInfo Input",
        "cog.mode": "Mode",
        "cog.model": "BaseModel",
        "cog.predictor": (
            "BasePredictor BaseRunner Path extract_setup_weights has_setup_weights load_predictor_from_ref"
        ),
        "cog.server": "",
        "cog.server.http": "Mode",
        "cog.suppress_output": "suppress_output",
        "cog.types": (
            "AsyncConcatenateIterator ConcatenateIterator FILENAME_ILLEGAL_CHARS FILENAME_MAX_LENGTH File Item "
            "Path Secret URLFile URLPath get_filename"
        ),
    },
}

_SERVER = "the old FastAPI server's internals; cognix's runtime is the server (cognix/runtime/server.py, worker.py)"
LEFT_OUT_MODULES: Dict[str, str] = {
    "cog.code_xforms": "strips model source for the old slim schema loader; cognix introspects the loaded runner",
    "cog.command.ast_openapi_schema": "the old static schema generator; cognix.runtime.schema writes the schema",
    "cog.command.call_graph": "a development tool of the Cog repository",
    "cog.command.migrate_v1_v1fast": "a migration script of the Cog CLI",
    "cog.config": "the old server's configuration (cog.yaml, env); cognix.runtime.config reads the environment",
    "cog.env_property": "a helper of cog.config",
    "cog.wait": "the old server's start-up wait for a mounted environment",
    **{f"cog.server.{m}": _SERVER for m in ("clients", "connection", "errors", "eventtypes", "helpers", "probes",
                                            "response_throttler", "retry_transport", "runner", "telemetry",
                                            "useragent", "webhook", "worker")},
}
_PYDANTIC_MODELS = "builds the old server's pydantic request/response models; cognix describes inputs itself"
LEFT_OUT_NAMES: Dict[Tuple[str, str], str] = {
    **{("cog.predictor", n): _PYDANTIC_MODELS for n in ("get_input_type", "get_output_type",
                                                       "get_training_input_type", "get_training_output_type",
                                                       "get_input_create_model_kwargs")},
    **{("cog.predictor", n): "re-exported from cog.code_xforms (left out)" for n in ("load_module_from_string",
                                                                                  "strip_model_source_code")},
    **{("cog.schema", n): "the old server's pydantic wire models; cognix's runtime has its own"
       for n in ("PredictionBaseModel", "PredictionRequest", "PredictionResponse", "TrainingRequest",
                 "TrainingResponse", "WebhookUrl", "create_schema_module")},
}
# cog.server.http and cog.command.openapi_schema are provided as runnable modules (`python -m ...`); the names
# they define are the old server's (create_app, Health, ...), except Mode
_RUNNABLE = {"cog.server.http": {"Mode"}, "cog.command.openapi_schema": set()}


def rows(release: str) -> List[Tuple[str, str]]:
    return [(module, name) for module, names in INVENTORY[release].items() for name in names.split()]


def left_out(module: str, name: Optional[str] = None) -> Optional[str]:
    if module in LEFT_OUT_MODULES:
        return LEFT_OUT_MODULES[module]
    if name is not None and module in _RUNNABLE and name not in _RUNNABLE[module]:
        return "the old server's implementation; the module runs cognix's server / schema"
    return LEFT_OUT_NAMES.get((module, name)) if name is not None else None


@pytest.mark.parametrize("release", list(INVENTORY))
def test_every_public_name_of_the_release_imports(release: str) -> None:
    missing = []
    for module in INVENTORY[release]:
        if left_out(module):
            continue
        try:
            loaded = importlib.import_module(module)
        except ImportError as err:
            missing.append(f"{module} (module: {err})")
            continue
        assert loaded.__file__.startswith(str(SHIM_DIR)), loaded.__file__
        for name in INVENTORY[release][module].split():
            if not left_out(module, name) and not hasattr(loaded, name):
                missing.append(f"{module}.{name}")
    assert not missing, f"cog {release} names the shim lacks: {missing}"


def test_left_out_entries_are_in_the_inventory() -> None:
    modules = {m for release in INVENTORY for m in INVENTORY[release]}
    names = {(m, n) for release in INVENTORY for m, n in rows(release)}
    assert set(LEFT_OUT_MODULES) <= modules
    assert set(LEFT_OUT_NAMES) <= names
    assert all(reason for reason in [*LEFT_OUT_MODULES.values(), *LEFT_OUT_NAMES.values()])


def test_summary_counts() -> None:
    """How much of each release is provided (printed with -s): all of 0.23.1; of the older ones, all but the old
    server's internals."""
    for release in INVENTORY:
        total = rows(release)
        provided = [r for r in total if not left_out(*r)]
        print(f"cog {release}: {len(provided)} of {len(total)} names provided "
              f"({len([m for m in INVENTORY[release] if not left_out(m)])} of {len(INVENTORY[release])} modules)")
    assert not [r for r in rows("0.23") if left_out(*r)], "every 0.23 name is provided"


# ---------------------------------------------------------------------------------------------- behaviour


def test_types_of_every_era() -> None:
    import typing

    import cog
    from cog import types

    assert typing.get_args(types.Weights) == (types.File, types.Path, str)
    assert types.Input is cog.Input and types.ExperimentalFeatureWarning is cog.ExperimentalFeatureWarning
    assert issubclass(cog.ExperimentalFeatureWarning, FutureWarning)  # 0.23; a Warning as in 0.13
    assert types.get_filename_from_url("https://x.test/a%20b.png?x=1") == "a b.png"
    assert isinstance(types.PYDANTIC_V2, bool)
    assert set(types.CogConfig.__annotations__) >= {"build", "predict", "train"}
    temp = types.URLTempFile("https://x.test/w.bin")
    assert isinstance(temp, cog.URLPath) and str(temp) == "https://x.test/w.bin" and temp.filename == "w.bin"
    assert types.FILENAME_MAX_LENGTH == 200 and "/" in types.FILENAME_ILLEGAL_CHARS


def test_scope_exceptions_and_metrics_of_0_13() -> None:
    import cog
    from cog._scope import Scope, use_scope
    from cog.server import exceptions, scope

    assert exceptions.CancelationException is cog.CancelationException  # what the runtime raises on cancel
    assert issubclass(exceptions.FatalWorkerException, Exception)
    assert scope.current_scope is cog.current_scope and scope.ExperimentalFeatureWarning is cog.ExperimentalFeatureWarning
    mine = Scope(context={"a": "1"})
    with use_scope(mine):
        scope.emit_metric("n", 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            cog.emit_metric("m", 2)
        with scope.evolve_scope(context={"a": "2"}):
            assert cog.current_scope().context == {"a": "2"}
            cog.current_scope().record_metric("k", 3)
        assert cog.current_scope() is mine
    assert mine.metrics.to_dict() == {"n": 1, "m": 2, "k": 3}


def test_files_json_schema_mode_and_coder() -> None:
    import datetime
    import enum

    import cog
    from cog import files, json, schema
    from cog.coder import Coder
    from cog.mode import Mode

    named = io.BytesIO(b"hello")
    named.name = "/tmp/x/out.txt"
    assert files.upload_file(named) == "data:text/plain;base64,aGVsbG8="
    assert files.upload_file(io.StringIO("hello")) == "data:application/octet-stream;base64,aGVsbG8="
    assert files.guess_filename(named) == "out.txt" and files.ensure_trailing_slash("http://a") == "http://a/"

    class Color(enum.Enum):
        RED = "red"

    class Out(cog.BaseModel):
        when: datetime.datetime
        color: Color
        where: cog.Path

    encoded = json.make_encodeable(Out(datetime.datetime(2024, 1, 2), Color.RED, cog.Path("/tmp/f")))
    assert encoded == {"when": "2024-01-02T00:00:00", "color": "red", "where": Path("/tmp/f")}
    assert json.upload_files({"a": [io.BytesIO(b"x")]}, lambda f: "up") == {"a": ["up"]}
    assert schema.Status.is_terminal(schema.Status.SUCCEEDED) and schema.Status.PROCESSING == "processing"
    assert [e.value for e in schema.WebhookEvent.default_events()] == ["start", "output", "logs", "completed"]
    assert str(Mode.TRAIN) == "train"

    class Celsius(float):
        pass

    class CelsiusCoder(Coder):
        @staticmethod
        def factory(tpe):  # noqa: ANN001, ANN205
            return CelsiusCoder() if tpe is Celsius else None

        def encode(self, x):  # noqa: ANN001, ANN201
            return {"c": float(x)}

    Coder.register(CelsiusCoder)
    assert isinstance(Coder.lookup(Celsius), CelsiusCoder) and Coder.lookup(int) is None


def test_logging_setup_does_not_need_structlog() -> None:
    import logging

    from cog.logging import replace_level_with_severity, setup_logging

    assert replace_level_with_severity(None, "", {"level": "info", "x": 1}) == {"severity": "INFO", "x": 1}
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        setup_logging(log_level=logging.WARNING)
        assert root.level == logging.WARNING and len(root.handlers) == len(before[0]) + 1
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])


def test_predictor_helpers_of_older_releases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cog
    from cog import predictor as p

    (tmp_path / "predict.py").write_text(textwrap.dedent("""
        import argparse
        from typing import Optional
        import cog
        ARGS = argparse.ArgumentParser().parse_args()  # a model reading sys.argv at import (cog hid the server's)

        class Predictor(cog.BasePredictor):
            def setup(self, weights: Optional[cog.Path] = None) -> None:
                self.weights = weights

            def predict(self, x: int = 1) -> int:
                return x * 2

        def train(steps: int = 3) -> str:
            return f"trained {steps}"
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["server", "--x-mode", "train"])
    predictor = p.load_predictor_from_ref("predict.py:Predictor")
    assert p.get_weights_type(predictor.setup) is cog.Path and p.has_setup_weights(predictor)
    monkeypatch.setenv("COG_WEIGHTS", "https://x.test/weights.tar")
    p.run_setup(predictor)
    assert isinstance(predictor.weights, cog.URLPath) and str(predictor.weights) == "https://x.test/weights.tar"
    assert p.extract_setup_weights(predictor) == "https://x.test/weights.tar"
    assert p.get_predict(predictor)(x=4) == 8 and p.run_prediction(predictor, {"x": 2}, []) == 4
    train = p.load_predictor_from_ref("predict.py:train")
    assert p.get_train(train)() == "trained 3"
    (tmp_path / "cog.yaml").write_text("predict: predict.py:Predictor\ntrain: predict.py:train\n")
    pytest.importorskip("yaml")
    assert p.get_predictor_ref(p.load_config(), "train") == "predict.py:train"
    assert p.human_readable_type_name(cog.Path) == "cog.Path" and p.is_optional(Optional[int])
    p.validate_input_type(int, "x")
    with pytest.raises(TypeError):
        p.validate_input_type(List[List[str]], "x")
    base = p.BaseInput(image=cog.Path(tmp_path / "in.png"))
    (tmp_path / "in.png").write_bytes(b"x")
    base.cleanup()
    assert not (tmp_path / "in.png").exists()


def test_base_model_takes_what_pydantic_era_models_wrote() -> None:
    from dataclasses import FrozenInstanceError, is_dataclass

    import cog

    class Output(cog.BaseModel):  # whisper-style: Optional fields left out, a mutable default
        transcription: str
        segments: Optional[List[dict]]
        preview: Optional[cog.Path]
        tags: List[str] = []

    out = Output(transcription="hi")
    assert is_dataclass(out) and out.preview is None and out.segments is None and out.tags == []
    assert Output(transcription="a").tags is not out.tags
    assert Output("a", [{}], None).segments == [{}]  # positional, as a dataclass
    with pytest.raises(TypeError):
        Output()  # transcription is still required

    class AnyOrder(cog.BaseModel):  # pydantic allowed a required field after one with a default
        note: Optional[str] = None
        score: float

    assert AnyOrder(score=1.0) == AnyOrder(None, 1.0) and AnyOrder(score=1.0).note is None
    with pytest.raises(TypeError):
        AnyOrder()

    class Frozen(cog.BaseModel, frozen=True):
        a: int

    with pytest.raises(FrozenInstanceError):
        Frozen(1).a = 2  # type: ignore[misc]

    class Manual(cog.BaseModel, auto_dataclass=False):
        pass

    assert not is_dataclass(Manual)
    with pytest.raises(TypeError):
        class Wrong(int, cog.BaseModel):  # noqa: F841 - the primary base must be a BaseModel
            pass


def test_base_model_with_pydantic_field_defaults() -> None:
    pydantic = pytest.importorskip("pydantic")
    import cog

    class Output(cog.BaseModel):
        text: str = pydantic.Field(default="x", description="the text")
        items: List[int] = pydantic.Field(default_factory=list)
        needed: int = pydantic.Field(..., description="required")

    assert Output(needed=1) == Output("x", [], 1)


def test_sdk_types_in_a_pydantic_model(tmp_path: Path) -> None:
    """cog <= 0.16's fixtures: pydantic outputs with cog.File / Optional[cog.Path] fields (output_complex.py,
    complex_output_project), with pydantic 1 or 2."""
    pytest.importorskip("pydantic")
    import importlib.util

    import cog

    (tmp_path / "pydantic_output.py").write_text(textwrap.dedent("""
        from typing import Optional
        import cog
        import pydantic

        class ModelOutput(pydantic.BaseModel):
            success: bool
            error: Optional[str] = None
            segmentedImage: Optional[cog.Path] = None
            file: Optional[cog.File] = None
            token: Optional[cog.Secret] = None
    """))
    spec = importlib.util.spec_from_file_location("pydantic_output", tmp_path / "pydantic_output.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.ModelOutput(success=True, segmentedImage="/tmp/x.png", file=io.StringIO("hello"), token="s3cret")
    assert isinstance(out.segmentedImage, cog.Path) and out.file.read() == "hello"
    assert out.token.get_secret_value() == "s3cret"
    url = module.ModelOutput(success=False, segmentedImage="https://x.test/a.png").segmentedImage
    assert isinstance(url, cog.URLPath)
