package web

// mountUI serves the embedded browser UI. (The UI itself lands in web/ui.)
func (s *Server) mountUI() {}
