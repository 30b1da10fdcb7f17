package main

import "testing"

func TestTrustedProxiesConfig(t *testing.T) {
	parse := func(env map[string]string, args ...string) (*Config, error) {
		var c Config
		fs := newFlagSet("serve")
		bindServe(fs, &c, func(k string) string { return env[k] })
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		return &c, c.Validate()
	}
	c, err := parse(nil)
	if err != nil || c.TrustedProxies != "" {
		t.Fatalf("default: got %q, %v; want none", c.TrustedProxies, err)
	}
	c, err = parse(map[string]string{"HUB_TRUSTED_PROXIES": "10.0.0.0/8"}, "--trusted-proxies", "172.16.0.0/12, 10.9.8.7")
	if err != nil || c.TrustedProxies != "172.16.0.0/12, 10.9.8.7" {
		t.Fatalf("flag over env: got %q, %v", c.TrustedProxies, err)
	}
	if _, err := parse(map[string]string{"HUB_TRUSTED_PROXIES": "nginx"}); err == nil {
		t.Fatal("HUB_TRUSTED_PROXIES=nginx: want a startup error")
	}
}
