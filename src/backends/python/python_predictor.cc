#include "backends/python/python_predictor.h"

#include <cstdio>
#include <optional>

#include <pybind11/embed.h>

#include "backends/python/glue_source.h"
#include "backends/python/model_client.h"
#include "backends/python/multi_model.h"
#include "common/redact.h"
#include "replica/v2_infer.h"

namespace axon::backends {
namespace {

namespace py = pybind11;

// Header and query bytes are not always valid UTF-8; undecodable bytes become U+FFFD.
py::str Utf8(std::string_view s) {
  return py::reinterpret_steal<py::str>(
      PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
}

template <typename Pairs>
py::dict ToDict(const Pairs& pairs) {
  py::dict out;
  for (const auto& [k, v] : pairs) out[Utf8(k)] = Utf8(v);
  return out;
}

// Decoded v2 inputs as the glue takes them: [(name, numpy dtype name, shape, bytearray)].
py::list InputsToPython(const std::vector<tensor::Tensor>& inputs) {
  py::list out;
  for (const auto& t : inputs) {
    py::tuple shape(t.shape.size());
    for (size_t i = 0; i < t.shape.size(); ++i) shape[i] = t.shape[i];
    out.append(
        py::make_tuple(t.name, std::string(tensor::DTypeName(t.dtype)), shape,
                       py::bytearray(reinterpret_cast<const char*>(t.data.data()), t.data.size())));
  }
  return out;
}

// predict_v2()'s outputs from the glue: [(name, numpy dtype name, shape, bytes)].
StatusOr<std::vector<tensor::Tensor>> OutputsFromPython(const py::handle& outputs) {
  std::vector<tensor::Tensor> out;
  for (const py::handle item : outputs) {
    const auto t = item.cast<py::tuple>();
    const auto dtype = tensor::DTypeFromName(t[1].cast<std::string>());
    if (!dtype) return Internal("the glue returned an unknown dtype");
    tensor::Tensor tensor{t[0].cast<std::string>(), *dtype, {}, {}};
    for (const py::handle dim : t[2]) tensor.shape.push_back(dim.cast<int64_t>());
    char* bytes = nullptr;
    Py_ssize_t size = 0;
    if (PyBytes_AsStringAndSize(t[3].ptr(), &bytes, &size) != 0) throw py::error_already_set();
    const auto* data = reinterpret_cast<const std::byte*>(bytes);
    tensor.data.assign(data, data + size);
    out.push_back(std::move(tensor));
  }
  return out;
}

// Holds the GIL for the calling thread for its lifetime. Each thread that calls the predictor
// (the execution threads, and the I/O thread for the calls it runs inline: replica/execution.h)
// keeps one Python thread state for its whole life (creating and deleting one per call is slow
// and, with pybind11's own helper on Python 3.11, crashes on release).
class ThreadGil {
 public:
  explicit ThreadGil(PyInterpreterState* interpreter) {
    thread_local PyThreadState* state = nullptr;
    if (state == nullptr) state = PyThreadState_New(interpreter);
    PyEval_RestoreThread(state);
  }
  ~ThreadGil() { PyEval_SaveThread(); }
  ThreadGil(const ThreadGil&) = delete;
  ThreadGil& operator=(const ThreadGil&) = delete;
};

// A glue answer: (status, body, content type), or (status, None, message) for a failure whose
// detail the glue has already logged.
replica::PredictResponse FromGlue(const py::tuple& answer) {
  const int status = answer[0].cast<int>();
  if (answer[1].is_none()) {
    return replica::PredictResponse::Error(status, PublicMessage(answer[2].cast<std::string>()));
  }
  return {status, answer[1].cast<std::string>(), answer[2].cast<std::string>()};
}

replica::PredictResponse GlueFailed(const py::error_already_set& e) {
  return replica::PredictResponse::Failure(500, std::string("python glue failed: ") + e.what());
}

// A predict() that returned an iterator, through the glue's _Stream: each call takes the GIL.
// Close() drops the Python object; one never closed (a stream cut off by the process's exit) is
// leaked rather than released without a live interpreter.
class PythonAnswerStream final : public replica::AnswerStream {
 public:
  PythonAnswerStream(PyInterpreterState* interpreter, py::object stream)
      : interpreter_(interpreter), stream_(std::move(stream)) {}
  ~PythonAnswerStream() override { stream_.release(); }

  std::optional<replica::PredictResponse> Next() override {
    ThreadGil gil(interpreter_);
    try {
      const py::object item = stream_.attr("next")();
      if (item.is_none()) return std::nullopt;
      return FromGlue(item);
    } catch (const py::error_already_set& e) {  // a bug in the glue itself
      return GlueFailed(e);
    }
  }

  void Close() override {
    ThreadGil gil(interpreter_);
    try {
      stream_.attr("close")();
    } catch (const py::error_already_set& e) {  // a bug in the glue itself
      std::fprintf(stderr, "closing a streamed answer failed: %s\n", e.what());
    }
    stream_ = py::object();
  }

 private:
  PyInterpreterState* const interpreter_;
  py::object stream_;
};

// Owns the interpreter. Between calls no thread holds the GIL; Predict() takes it.
class PythonPredictor final : public replica::Predictor {
 public:
  PythonPredictor() = default;
  PythonPredictor(const PythonPredictor&) = delete;
  PythonPredictor& operator=(const PythonPredictor&) = delete;

  ~PythonPredictor() override {
    if (released_ != nullptr) PyEval_RestoreThread(released_);
    multi_model_.reset();  // stops its watcher thread first
    handle_ = py::object();
    handle_batch_ = py::object();
    handle_v2_ = py::object();
    loaded_ = py::object();
    client_ = py::object();
    glue_ = py::object();
  }

  Status Load(const std::filesystem::path& module_path, const nlohmann::json& config,
              const spec::MultiModelSpec& multi_model, const std::filesystem::path& python_env) {
    if (Status s = StartInterpreter(python_env); !s.ok()) return s;
    try {
      glue_ = py::module_::import("types").attr("ModuleType")("axon_glue");
      py::exec(kGlueSource, glue_.attr("__dict__"));
      client_ = MakeModelClient(&models_);
      if (!multi_model.empty()) {  // the predictor's model_client is the model cache
        auto created = MultiModel::Create(multi_model);
        if (!created.ok()) return created.status();
        multi_model_ = std::move(created).value();
        client_ = multi_model_->client();
      }
      loaded_ = glue_.attr("Loaded")(module_path.string(), config.dump(),
                                     models_.empty() && !multi_model_ ? py::none() : client_);
      if (multi_model_) {
        if (Status s = multi_model_->Attach(loaded_.attr("instance")); !s.ok()) return s;
      }
      handle_ = glue_.attr("handle");
      handle_batch_ = glue_.attr("handle_batch");
      handle_v2_ = glue_.attr("handle_v2");
    } catch (const py::error_already_set& e) {
      const bool user_error = e.matches(glue_.attr("PredictorError"));
      return Internal(user_error ? std::string(py::str(e.value())) : std::string(e.what()));
    }
    interpreter_state_ = PyInterpreterState_Main();
    released_ = PyEval_SaveThread();
    return OkStatus();
  }

  // GET requests are answered one by one; the POSTs of the batch go to one predict() call,
  // the Open Inference Protocol requests to one predict_v2() call.
  std::vector<replica::PredictResponse> PredictBatch(
      std::span<const replica::PredictRequest* const> requests) override {
    std::vector<replica::PredictResponse> out(requests.size());
    std::vector<size_t> posts, v2;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (requests[i]->is_get) {
        out[i] = Predict(*requests[i]);
      } else {
        (requests[i]->protocol == replica::Protocol::kOpenInference ? v2 : posts).push_back(i);
      }
    }
    if (!v2.empty()) {
      std::vector<const replica::PredictRequest*> calls;
      for (size_t i : v2) calls.push_back(requests[i]);
      std::vector<replica::PredictResponse> answers = PredictV2(calls, /*batched=*/true);
      for (size_t k = 0; k < v2.size(); ++k) out[v2[k]] = std::move(answers[k]);
    }
    if (!posts.empty()) PredictPosts(requests, posts, out);
    for (auto& response : out) response.batch_size = static_cast<int>(requests.size());
    return out;
  }

  std::optional<nlohmann::json> Metadata() const override {
    if (multi_model_)
      return nlohmann::json{{"type", "python"}, {"multi_model", multi_model_->Snapshot()}};
    if (models_.empty()) return std::nullopt;
    nlohmann::json models = nlohmann::json::array();
    for (const auto& m : models_) {
      nlohmann::json entry = m.description;
      entry["name"] = m.name;
      models.push_back(std::move(entry));
    }
    return nlohmann::json{{"type", "python"}, {"models", std::move(models)}};
  }

  void SetModels(std::vector<NamedModel> models) { models_ = std::move(models); }

  // pybind11's default configuration, plus the environment's python3 as the executable: its
  // pyvenv.cfg then makes site.py put the environment's site-packages on sys.path.
  Status StartInterpreter(const std::filesystem::path& python_env) {
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.isolated = 0;
    config.use_environment = 1;
    config.install_signal_handlers = 0;
    if (!python_env.empty()) {
      const std::string executable = (python_env / "bin" / "python3").string();
      PyStatus status = PyConfig_SetBytesString(&config, &config.executable, executable.c_str());
      if (PyStatus_Exception(status)) {
        PyConfig_Clear(&config);
        return Internal("cannot configure Python for " + python_env.string());
      }
    }
    try {
      interpreter_.emplace(&config);  // clears config
    } catch (const std::exception& e) {
      return Internal(std::string("cannot start Python: ") + e.what());
    }
    return OkStatus();
  }

  replica::PredictResponse Predict(const replica::PredictRequest& request) override {
    if (request.protocol == replica::Protocol::kOpenInference) {
      const replica::PredictRequest* one[] = {&request};
      return std::move(PredictV2(one, /*batched=*/false)[0]);
    }
    ThreadGil gil(interpreter_state_);
    try {
      const py::tuple answer = handle_(
          loaded_, request.is_get, py::bytes(request.body.data(), request.body.size()),
          Utf8(request.content_type), ToDict(request.query_params), ToDict(request.headers));
      if (answer[2].is_none()) {  // an iterator: streamed
        replica::PredictResponse streamed;
        streamed.stream = std::make_shared<PythonAnswerStream>(interpreter_state_, answer[1]);
        return streamed;
      }
      return FromGlue(answer);
    } catch (const py::error_already_set& e) {  // a bug in the glue itself
      return GlueFailed(e);
    }
  }

 private:
  // The POSTs `posts` of a batch, in one predict() call.
  void PredictPosts(std::span<const replica::PredictRequest* const> requests,
                    const std::vector<size_t>& posts, std::vector<replica::PredictResponse>& out) {
    ThreadGil gil(interpreter_state_);
    try {
      py::list bodies, content_types, query_params, headers;
      for (size_t i : posts) {
        const auto& r = *requests[i];
        bodies.append(py::bytes(r.body.data(), r.body.size()));
        content_types.append(Utf8(r.content_type));
        query_params.append(ToDict(r.query_params));
        headers.append(ToDict(r.headers));
      }
      py::list answers = handle_batch_(loaded_, bodies, content_types, query_params, headers);
      for (size_t k = 0; k < posts.size(); ++k) out[posts[k]] = FromGlue(answers[k]);
    } catch (const py::error_already_set& e) {  // a bug in the glue itself
      for (size_t i : posts) out[i] = GlueFailed(e);
    }
  }

  // Open Inference Protocol requests: decoded here, answered by predict_v2() (one call for all
  // of them when `batched`), encoded here.
  std::vector<replica::PredictResponse> PredictV2(
      std::span<const replica::PredictRequest* const> requests, bool batched) {
    std::vector<replica::PredictResponse> out(requests.size());
    std::vector<std::optional<protocol::v2::InferRequest>> decoded(requests.size());
    std::vector<std::vector<tensor::Tensor>> outputs(requests.size());
    std::vector<size_t> called;
    for (size_t i = 0; i < requests.size(); ++i) {
      auto request = replica::DecodeV2Request(*requests[i]);
      if (!request.ok()) {
        out[i] = replica::ErrorAnswer(request.status());
        continue;
      }
      decoded[i] = std::move(request).value();
      called.push_back(i);
    }
    if (called.empty()) return out;
    std::vector<bool> answered(requests.size(), false);
    {
      ThreadGil gil(interpreter_state_);
      try {
        py::list inputs, parameters, headers;
        for (size_t i : called) {
          inputs.append(InputsToPython(decoded[i]->inputs));
          decoded[i]->inputs.clear();  // now owned by Python
          parameters.append(decoded[i]->parameters.dump());
          headers.append(ToDict(requests[i]->headers));
        }
        py::list answers = handle_v2_(loaded_, batched, inputs, parameters, headers);
        for (size_t k = 0; k < called.size(); ++k) {
          const size_t i = called[k];
          py::tuple answer = answers[k];
          const int status = answer[0].cast<int>();
          if (status != 200) {
            out[i] = replica::PredictResponse::Error(status,
                                                     PublicMessage(answer[1].cast<std::string>()));
            answered[i] = true;
            continue;
          }
          auto tensors = OutputsFromPython(answer[1]);
          if (!tensors.ok()) {
            out[i] = replica::ErrorAnswer(tensors.status());
            answered[i] = true;
            continue;
          }
          outputs[i] = std::move(tensors).value();
        }
      } catch (const std::exception& e) {  // a bug in the glue itself (or a bad cast)
        for (size_t i : called) {
          out[i] = replica::PredictResponse::Failure(
              500, std::string("python glue failed: ") + e.what());
          answered[i] = true;
        }
      }
    }
    for (size_t i : called) {
      if (!answered[i]) out[i] = replica::V2Answer(*requests[i], *decoded[i], outputs[i]);
    }
    return out;
  }

  std::vector<NamedModel> models_;           // first: outlives the Python objects that point to it
  std::unique_ptr<MultiModel> multi_model_;  // predictor.models as a mapping, else null
  std::optional<py::scoped_interpreter> interpreter_;  // started by Load()
  py::object glue_;
  py::object client_;
  py::object loaded_;
  py::object handle_;
  py::object handle_batch_;
  py::object handle_v2_;
  PyThreadState* released_ = nullptr;  // the main thread's state while it waits
  PyInterpreterState* interpreter_state_ = nullptr;
};

}  // namespace

StatusOr<std::unique_ptr<replica::Predictor>> LoadPythonPredictor(
    const std::filesystem::path& module_path, const nlohmann::json& config,
    std::vector<NamedModel> models, const spec::MultiModelSpec& multi_model,
    const std::filesystem::path& python_env) {
  auto predictor = std::make_unique<PythonPredictor>();
  predictor->SetModels(std::move(models));
  if (Status s = predictor->Load(module_path, config, multi_model, python_env); !s.ok()) return s;
  return std::unique_ptr<replica::Predictor>(std::move(predictor));
}

}  // namespace axon::backends
