package pbitest

func (s *Server) appRoutes() {}

func (s *Server) seedApps() {}
