package pbitest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Gateway data sources with credentials: creating them, replacing their
// credentials and deleting them. Credentials arrive encrypted with the
// gateway's public key (encryptionAlgorithm RSA-OAEP), and the fake decrypts
// them with its private key as the gateway machine does, following the
// Power BI .NET SDK's encryptors (microsoft/PowerBI-CSharp,
// sdk/PowerBI.Api/Extensions: Asymmetric1024KeyEncryptionHelper for 1024-bit
// keys, AsymmetricHigherKeyEncryptionHelper and AuthenticatedEncryption
// otherwise). What does not decrypt, or decrypts to something that is not
// credentials of the declared type, is refused.

// GatewayCredentials are the credentials a client set on a gateway data
// source, decrypted.
type GatewayCredentials struct {
	CredentialType      string
	Data                map[string]string // credentialData: username, password, key, accessToken; empty for Anonymous
	EncryptedConnection string            // Encrypted or NotEncrypted
	PrivacyLevel        string            // None, Public, Organizational or Private
}

// GatewayDatasourceCredentials returns the credentials last set on a gateway
// data source through the API, and false when none were.
func (s *Server) GatewayDatasourceCredentials(gatewayID, datasourceID string) (GatewayCredentials, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.state.gateway(gatewayID)
	if g == nil {
		return GatewayCredentials{}, false
	}
	ds := g.datasource(datasourceID)
	if ds == nil || ds.credentials == nil {
		return GatewayCredentials{}, false
	}
	c := *ds.credentials
	c.Data = make(map[string]string, len(ds.credentials.Data))
	for k, v := range ds.credentials.Data {
		c.Data[k] = v
	}
	return c, true
}

// Gateway key pairs are generated once per process and size, when a gateway
// first needs one: generating a 2048-bit key for every server would slow
// every test that starts one. Gateways of one size share the pair.
var gatewayKeys struct {
	sync.Mutex
	bySize map[int]*rsa.PrivateKey
}

func gatewayKey(bits int) *rsa.PrivateKey {
	gatewayKeys.Lock()
	defer gatewayKeys.Unlock()
	if k := gatewayKeys.bySize[bits]; k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic("pbitest: generating a gateway key: " + err.Error())
	}
	if gatewayKeys.bySize == nil {
		gatewayKeys.bySize = map[int]*rsa.PrivateKey{}
	}
	gatewayKeys.bySize[bits] = k
	return k
}

// publicKeyJSON is the key as the service publishes it: base64 of the
// big-endian exponent and modulus.
func publicKeyJSON(k *rsa.PublicKey) gatewayPublicKey {
	return gatewayPublicKey{Exponent: base64.StdEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		Modulus: base64.StdEncoding.EncodeToString(k.N.Bytes())}
}

var errUndecryptable = errors.New("the credentials could not be decrypted with the gateway's key")

// decryptCredentials undoes the client's encryption. A 1024-bit key takes
// 128-byte RSA-OAEP (SHA-1) blocks; a larger one, base64 of the RSA-OAEP
// (SHA-256) encrypted AES and HMAC keys followed by base64 of the
// authenticated AES-256-CBC message.
func decryptCredentials(key *rsa.PrivateKey, s string) ([]byte, error) {
	if key.Size() == 128 {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) == 0 || len(raw)%128 != 0 {
			return nil, errUndecryptable
		}
		var out []byte
		for b := range slices.Chunk(raw, 128) {
			seg, err := rsa.DecryptOAEP(sha1.New(), nil, key, b, nil)
			if err != nil {
				return nil, errUndecryptable
			}
			out = append(out, seg...)
		}
		return out, nil
	}
	n := base64.StdEncoding.EncodedLen(key.Size())
	if len(s) <= n {
		return nil, errUndecryptable
	}
	wrapped, err1 := base64.StdEncoding.DecodeString(s[:n])
	msg, err2 := base64.StdEncoding.DecodeString(s[n:])
	if err1 != nil || err2 != nil {
		return nil, errUndecryptable
	}
	keys, err := rsa.DecryptOAEP(sha256.New(), nil, key, wrapped, nil)
	// Key lengths 0 (32 bytes) and 1 (64 bytes); algorithms 0 (AES-256-CBC)
	// and 0 (HMAC-SHA256); then a 32-byte tag, a 16-byte IV and whole blocks.
	if err != nil || len(keys) != 2+32+64 || keys[0] != 0 || keys[1] != 1 ||
		len(msg) < 2+32+2*aes.BlockSize || msg[0] != 0 || msg[1] != 0 || (len(msg)-2-32)%aes.BlockSize != 0 {
		return nil, errUndecryptable
	}
	encKey, macKey := keys[2:34], keys[34:]
	tag, iv, ct := msg[2:34], msg[34:50], msg[50:]
	mac := hmac.New(sha256.New, macKey)
	mac.Write(msg[:2])
	mac.Write(iv)
	mac.Write(ct)
	if !hmac.Equal(mac.Sum(nil), tag) {
		return nil, errUndecryptable
	}
	block, _ := aes.NewCipher(encKey)
	plain := bytes.Clone(ct)
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, plain)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errUndecryptable
	}
	return plain[:len(plain)-pad], nil
}

// credentialFields are the credentialData names each type needs.
var credentialFields = map[string][]string{
	"Basic":     {"username", "password"},
	"Windows":   {"username", "password"},
	"Key":       {"key"},
	"OAuth2":    {"accessToken"},
	"Anonymous": nil,
}

// credentialDetailsJSON is swagger CredentialDetails.
type credentialDetailsJSON struct {
	CredentialType      string `json:"credentialType"`
	Credentials         string `json:"credentials"`
	EncryptedConnection string `json:"encryptedConnection"`
	EncryptionAlgorithm string `json:"encryptionAlgorithm"`
	PrivacyLevel        string `json:"privacyLevel"`
}

// readCredentials checks credential details and decrypts them with the
// gateway's key, answering 400 and returning false when they will not do.
// The caller holds s.mu.
func readCredentials(w http.ResponseWriter, g *gateway, d credentialDetailsJSON) (*GatewayCredentials, bool) {
	bad := func(msg string) (*GatewayCredentials, bool) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", msg)
		return nil, false
	}
	ct, ok := canonical(d.CredentialType, []string{"Basic", "Windows", "Anonymous", "OAuth2", "Key", "SAS"})
	switch {
	case !ok:
		return bad(fmt.Sprintf("Invalid credentialType '%s'", d.CredentialType))
	case ct == "SAS":
		return bad("SAS credentials are supported only for Azure Blob Storage and Azure Data Lake Storage, not on a gateway")
	}
	privacy, ok := canonical(d.PrivacyLevel, []string{"None", "Public", "Organizational", "Private"})
	if !ok {
		return bad(fmt.Sprintf("Invalid privacyLevel '%s'", d.PrivacyLevel))
	}
	conn, ok := canonical(d.EncryptedConnection, []string{"Encrypted", "NotEncrypted"})
	if !ok {
		return bad(fmt.Sprintf("Invalid encryptedConnection '%s'", d.EncryptedConnection))
	}
	if !strings.EqualFold(d.EncryptionAlgorithm, "RSA-OAEP") {
		return bad("On-premises data source credentials must be encrypted with the gateway's public key (encryptionAlgorithm RSA-OAEP)")
	}
	// The code the service answers credentials with that the gateway cannot
	// use is not documented; this is the gateway pipeline's code for invalid
	// connection credentials.
	invalid := func(msg string) (*GatewayCredentials, bool) {
		writePBIError(w, http.StatusBadRequest, "DM_GWPipeline_Gateway_InvalidConnectionCredentials", detailsMessage(msg))
		return nil, false
	}
	plain, err := decryptCredentials(g.key(), d.Credentials)
	if err != nil {
		return invalid("The credentials could not be decrypted with the gateway's key. Encrypt them with the public key of this gateway.")
	}
	var doc struct {
		CredentialData json.RawMessage `json:"credentialData"`
	}
	if json.Unmarshal(plain, &doc) != nil || doc.CredentialData == nil {
		return invalid("The decrypted credentials are not a credentialData document.")
	}
	data := map[string]string{}
	var pairs []struct{ Name, Value string }
	switch {
	case string(doc.CredentialData) == `""`: // Anonymous, as the REST reference writes it
	case json.Unmarshal(doc.CredentialData, &pairs) == nil:
		for _, p := range pairs {
			data[p.Name] = p.Value
		}
	default:
		return invalid("credentialData is neither a list of name/value pairs nor empty.")
	}
	want := credentialFields[ct]
	for _, f := range want {
		if data[f] == "" {
			return invalid(fmt.Sprintf("%s credentials need a %s.", ct, f))
		}
	}
	if len(data) != len(want) && len(want) == 0 {
		return invalid("Anonymous credentials take no credentialData.")
	}
	if len(data) != len(want) {
		return invalid(fmt.Sprintf("%s credentials take only %s.", ct, strings.Join(want, " and ")))
	}
	return &GatewayCredentials{CredentialType: ct, Data: data, EncryptedConnection: conn, PrivacyLevel: privacy}, true
}

// createGatewayDatasource creates a data source on a gateway: 201 with it.
// The gateway checks the connection first, so an offline gateway refuses.
// Names are unique on a gateway; OAuth2 credentials are not supported here
// (swagger Gateways_CreateDatasource, Limitations).
func (s *Server) createGatewayDatasource(w http.ResponseWriter, r *http.Request) {
	var body struct {
		DataSourceType    string                `json:"dataSourceType"`
		ConnectionDetails string                `json:"connectionDetails"`
		DataSourceName    string                `json:"dataSourceName"`
		CredentialDetails credentialDetailsJSON `json:"credentialDetails"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	var details DatasourceConnectionDetails
	switch {
	case strings.TrimSpace(body.DataSourceName) == "" || strings.TrimSpace(body.DataSourceType) == "":
		writeError(w, http.StatusBadRequest, "InvalidRequest", "dataSourceName and dataSourceType are required")
		return
	case json.Unmarshal([]byte(body.ConnectionDetails), &details) != nil || details == (DatasourceConnectionDetails{}):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "connectionDetails must be a JSON object in a string, e.g. {\"server\":\"MyServer\",\"database\":\"MyDatabase\"}")
		return
	case strings.EqualFold(body.CredentialDetails.CredentialType, "OAuth2"):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "OAuth2 credentials are not supported when creating a gateway data source")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gatewayOf(w, r)
	if g == nil {
		return
	}
	for _, ds := range g.datasources {
		if strings.EqualFold(ds.DatasourceName, body.DataSourceName) {
			writeError(w, http.StatusBadRequest, "InvalidRequest",
				fmt.Sprintf("A data source named '%s' already exists on gateway %s", ds.DatasourceName, g.info.ID))
			return
		}
	}
	creds, ok := readCredentials(w, g, body.CredentialDetails)
	if !ok {
		return
	}
	if g.info.Unreachable {
		writeGatewayUnreachable(w)
		return
	}
	ds := &GatewayDatasource{ID: newGUID(), DatasourceName: body.DataSourceName, DatasourceType: body.DataSourceType,
		ConnectionDetails: details, CredentialType: creds.CredentialType, credentials: creds}
	g.datasources = append(g.datasources, ds)
	s.writeEntity(w, http.StatusCreated, "", "gatewayDatasources", toGatewayDatasourceJSON(g.info.ID, ds))
}

func writeGatewayUnreachable(w http.ResponseWriter) {
	writePBIError(w, http.StatusBadRequest, "DM_GWPipeline_Client_GatewayUnreachable",
		detailsMessage("The gateway is either offline or could not be reached."))
}

// updateGatewayDatasource replaces a data source's credentials (and with
// them its credential type): 200 with no body.
func (s *Server) updateGatewayDatasource(w http.ResponseWriter, r *http.Request) {
	var body struct {
		CredentialDetails *credentialDetailsJSON `json:"credentialDetails"`
	}
	if _, ok := readJSON(w, r, &body); !ok {
		return
	}
	if body.CredentialDetails == nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "credentialDetails is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ds := s.gatewayDatasourceOf(w, r)
	if ds == nil {
		return
	}
	creds, ok := readCredentials(w, g, *body.CredentialDetails)
	if !ok {
		return
	}
	if g.info.Unreachable {
		writeGatewayUnreachable(w)
		return
	}
	ds.credentials, ds.CredentialType = creds, creds.CredentialType
	writeEmptyOK(w)
}

// deleteGatewayDatasource removes a data source from its gateway: 200.
// Models bound to it keep the binding, which no longer leads anywhere.
func (s *Server) deleteGatewayDatasource(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ds := s.gatewayDatasourceOf(w, r)
	if ds == nil {
		return
	}
	g.datasources = slices.DeleteFunc(g.datasources, func(x *GatewayDatasource) bool { return x == ds })
	writeEmptyOK(w)
}

// boundGatewayDatasources lists the gateway data sources a model's sources
// are bound to. The service also lists cloud sources under gateway ids no one
// administers; the fake has only its gateways' sources.
func (s *Server) boundGatewayDatasources(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, groupID := s.datasetOf(w, r)
	if d == nil {
		s.mu.Unlock()
		return
	}
	items := []gatewayDatasourceJSON{}
	for _, src := range d.info.Datasources {
		g := s.state.gateway(src.GatewayID)
		if src.GatewayID == "" || g == nil {
			continue
		}
		if ds := g.datasource(src.DatasourceID); ds != nil {
			items = append(items, toGatewayDatasourceJSON(g.info.ID, ds))
		}
	}
	s.mu.Unlock()
	writeList(s, w, groupID, "gatewayDatasources", items)
}
