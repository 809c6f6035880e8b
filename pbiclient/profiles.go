package pbiclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Profile is a service principal profile: an identity of the signed-in service principal,
// one per customer of a multi-tenant Power BI Embedded app.
type Profile struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// ProfileQuery are the OData options of ListProfiles; zero values are left out.
type ProfileQuery struct {
	Top, Skip int
	Filter    string // e.g. "displayName eq 'Contoso'"
}

type profileRequest struct {
	DisplayName string `json:"displayName"`
}

func needProfileName(op, name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("pbiclient: " + op + ": displayName is required")
	}
	return nil
}

// ListProfiles lists the signed-in service principal's profiles. Only a service principal
// may call it, as every profile operation.
func (c *Client) ListProfiles(ctx context.Context, q ProfileQuery) ([]Profile, error) {
	v := url.Values{}
	if q.Top > 0 {
		v.Set("$top", strconv.Itoa(q.Top))
	}
	if q.Skip > 0 {
		v.Set("$skip", strconv.Itoa(q.Skip))
	}
	if q.Filter != "" {
		v.Set("$filter", q.Filter)
	}
	var out list[Profile]
	if _, err := c.getJSON(ctx, pathOf("profiles"), v, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// CreateProfile creates a profile; names are unique per service principal.
func (c *Client) CreateProfile(ctx context.Context, displayName string) (Profile, error) {
	var out Profile
	if err := needProfileName("CreateProfile", displayName); err != nil {
		return out, err
	}
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("profiles"), nil, profileRequest{displayName}, &out)
	return out, err
}

// GetProfile reads one profile.
func (c *Client) GetProfile(ctx context.Context, profileID string) (Profile, error) {
	var out Profile
	if err := needID("profile", profileID); err != nil {
		return out, err
	}
	_, err := c.getJSON(ctx, pathOf("profiles", profileID), nil, &out)
	return out, err
}

// RenameProfile changes a profile's name and returns the profile.
func (c *Client) RenameProfile(ctx context.Context, profileID, displayName string) (Profile, error) {
	var out Profile
	if err := needID("profile", profileID); err != nil {
		return out, err
	}
	if err := needProfileName("RenameProfile", displayName); err != nil {
		return out, err
	}
	_, err := c.sendJSON(ctx, http.MethodPut, pathOf("profiles", profileID), nil, profileRequest{displayName}, &out)
	return out, err
}

// DeleteProfile deletes a profile, and with it the profile's access to workspaces.
func (c *Client) DeleteProfile(ctx context.Context, profileID string) error {
	if err := needID("profile", profileID); err != nil {
		return err
	}
	_, err := c.sendJSON(ctx, http.MethodDelete, pathOf("profiles", profileID), nil, nil, nil)
	return err
}

// RefreshUserPermissions asks Power BI to bring the caller's permissions up to date after
// access was granted; it takes about two minutes. The service allows one call per user an
// hour and throttles the rest (429 with Retry-After).
func (c *Client) RefreshUserPermissions(ctx context.Context) error {
	_, err := c.sendJSON(ctx, http.MethodPost, pathOf("RefreshUserPermissions"), nil, nil, nil)
	return err
}
