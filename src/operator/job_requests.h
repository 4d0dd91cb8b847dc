// The calls a BatchAPI's or TaskAPI's endpoint takes, as the operator's async listener
// (async_requests.h) hands them over from the gateway:
//
//   POST   /<endpoint>                 submit a job (job_submission.h); answers the job
//   GET    /<endpoint>                 {"jobs": [...]}, newest first (at most 100)
//   GET    /<endpoint>?jobID=ID        the job's status (JobRunner::Json); /<endpoint>/ID too
//   DELETE /<endpoint>?jobID=ID        stop it; answers {"message", "status"}; /<endpoint>/ID too
//
// Errors are {"error"}: 400 for a bad submission (naming the field), 404 for an unknown job,
// 405 for another method, 503 when the job store cannot be written.
//
// Threading: call from any thread (JobRunner is thread-safe); blocks on the job store.
#pragma once

#include <string>

#include "http/beast.h"
#include "operator/job_runner.h"

namespace axon::operator_ {

// `api` is the API's current target (Controller::JobApi); `id` the job id in the path ("" for
// none: then the query's jobID, if any).
http::Response HandleJobRequest(JobRunner& jobs, const ApiTarget& api, const http::Request& request,
                                std::string id);

}  // namespace axon::operator_
