-- Every request asks the server to close the connection after its response.
wrk.headers["Connection"] = "close"
