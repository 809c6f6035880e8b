package main

import (
	"github.com/powerbi-mcp/powerbi-mcp/tools"

	"io"
	"strings"
	"testing"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Transport != "stdio" || cfg.Addr != "127.0.0.1:8080" || cfg.LogLevel != "info" || cfg.ExportDir == "" ||
		cfg.BaseURL != "https://api.powerbi.com/v1.0/myorg" || cfg.Sandbox || cfg.ReadOnly || strings.Join(cfg.Toolsets, ",") != "default" {
		t.Fatalf("%+v", cfg)
	}
}

func TestConfigEnvironmentAndFlags(t *testing.T) {
	e := env(map[string]string{
		"PBI_MCP_EXPORT_DIR": "/data/exports",
		"PBI_MCP_LOG_LEVEL":  "debug",
		"PBI_MCP_READ_ONLY":  "true",
		"PBI_MCP_TOOLSETS":   "reports, refresh",
		"PBI_MCP_TRANSPORT":  "http",
	})
	cfg, err := parseConfig([]string{"--log-level", "warn"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ExportDir != "/data/exports" || !cfg.ReadOnly || cfg.Transport != "http" || strings.Join(cfg.Toolsets, ",") != "reports,refresh" {
		t.Fatalf("environment not applied: %+v", cfg)
	}
	if cfg.LogLevel != "warn" {
		t.Fatalf("a command-line flag must win over the environment: %s", cfg.LogLevel)
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--transport", "websocket"}, nil, "--transport"},
		{nil, map[string]string{"PBI_MCP_LOG_LEVEL": "loud"}, "PBI_MCP_LOG_LEVEL=loud: use trace, debug"},
		{nil, map[string]string{"PBI_MCP_READ_ONLY": "maybe"}, "PBI_MCP_READ_ONLY"},
		{[]string{"--transport", "http", "--addr", "0.0.0.0:8080"}, nil, "PBI_MCP_HTTP_TOKEN"},
		{[]string{"--transport", "http", "--addr", "8080"}, nil, "host:port"},
		{[]string{"serve"}, nil, "unexpected argument"},
	} {
		_, err := parseConfig(c.args, env(c.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: got %v, want an error naming %s", c.args, c.env, err, c.want)
		}
	}
	// Beyond loopback with a caller token is fine.
	if _, err := parseConfig([]string{"--transport", "http", "--addr", "0.0.0.0:8080"}, env(map[string]string{"PBI_MCP_HTTP_TOKEN": "t"}), io.Discard); err != nil {
		t.Fatal(err)
	}
}

func TestHelpListsEveryEnvironmentVariable(t *testing.T) {
	var out strings.Builder
	if code := run(t.Context(), []string{"--help"}, env(nil), strings.NewReader(""), &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"PBI_MCP_EXPORT_DIR", "PBI_MCP_LOG_LEVEL", "PBI_MCP_TRANSPORT", "AZURE_CLIENT_SECRET", "--sandbox"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

func TestSandboxOffersTheDefaultToolsetsLikeTheRealServer(t *testing.T) {
	cfg, err := parseConfig([]string{"--sandbox"}, env(nil), io.Discard)
	if err != nil || len(cfg.Toolsets) != 0 && strings.Join(cfg.Toolsets, ",") != "default" {
		t.Fatalf("sandbox: %v %v", cfg.Toolsets, err)
	}
	cfg, err = parseConfig([]string{"--sandbox", "--toolsets", "all"}, env(nil), io.Discard)
	if err != nil || strings.Join(cfg.Toolsets, ",") != "all" {
		t.Fatalf("sandbox with --toolsets all: %v %v", cfg.Toolsets, err)
	}
	cfg, err = parseConfig(nil, env(map[string]string{"PBI_MCP_SANDBOX": "true", "PBI_MCP_TOOLSETS": "dax"}), io.Discard)
	if err != nil || strings.Join(cfg.Toolsets, ",") != "dax" {
		t.Fatalf("sandbox with PBI_MCP_TOOLSETS: %v %v", cfg.Toolsets, err)
	}
}

func TestResultAndResourceLimits(t *testing.T) {
	cfg, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil || cfg.MaxResultBytes != tools.DefaultMaxResultBytes || cfg.MaxResourceBytes != tools.DefaultMaxResourceBytes {
		t.Fatalf("defaults: %d %d %v", cfg.MaxResultBytes, cfg.MaxResourceBytes, err)
	}
	cfg, err = parseConfig(nil, env(map[string]string{"PBI_MCP_MAX_RESULT_BYTES": "65536"}), io.Discard)
	if err != nil || cfg.MaxResultBytes != 65536 {
		t.Fatalf("PBI_MCP_MAX_RESULT_BYTES: %d %v", cfg.MaxResultBytes, err)
	}
	if _, err := parseConfig([]string{"--max-result-bytes", "100"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "4096 or more") {
		t.Fatalf("a budget too small to be useful: %v", err)
	}
}
