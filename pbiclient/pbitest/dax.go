package pbitest

func (s *Server) daxRoutes() {}

func (s *Server) seedModel() {}
