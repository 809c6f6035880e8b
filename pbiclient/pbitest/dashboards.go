package pbitest

func (s *Server) dashboardRoutes() {}

func (s *Server) seedDashboards() {}
