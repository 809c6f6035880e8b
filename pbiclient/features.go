package pbiclient

import "context"

// AvailableFeature is a Power BI feature and whether the caller has it.
type AvailableFeature struct {
	Name  string `json:"name"`  // e.g. "embedTrial"
	State string `json:"state"` // "Enabled" or "Disabled"
	// ExtendedState says why: "Enabled", "DisabledByAdmin" or "UserNotLicensed".
	ExtendedState  string `json:"extendedState"`
	AdditionalInfo *struct {
		// Usage is, for embedTrial, the percentage of the trial embed tokens (for workspaces
		// on shared capacity) used so far.
		Usage int `json:"usage"`
	} `json:"additionalInfo,omitempty"`
}

// ListAvailableFeatures lists the features available to the caller.
func (c *Client) ListAvailableFeatures(ctx context.Context) ([]AvailableFeature, error) {
	var out struct {
		Features []AvailableFeature `json:"features"`
	}
	if _, err := c.getJSON(ctx, pathOf("availableFeatures"), nil, &out); err != nil {
		return nil, err
	}
	return out.Features, nil
}

// GetAvailableFeature reads one feature by name, e.g. "embedTrial".
func (c *Client) GetAvailableFeature(ctx context.Context, name string) (AvailableFeature, error) {
	var out AvailableFeature
	path := apiPath{}.joinKey("availableFeatures", "featureName", name)
	_, err := c.getJSON(ctx, path, nil, &out)
	return out, err
}
