package workspace

// WaitAnalyses returns once the analyses of the writes w forwarded so far
// in pass-through mode are done (they run off the request path).
func WaitAnalyses(w *Workspace) { w.waitAnalyses() }
