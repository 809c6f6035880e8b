package pbiclient

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
	"slices"
)

// Credentials of on-premises gateway data sources travel encrypted with the gateway's public
// key, so that only the gateway machine can read them. This file follows Microsoft's Power BI
// .NET SDK, the reference the REST documentation points to ("Configure credentials
// programmatically"): AsymmetricKeyEncryptor, Asymmetric1024KeyEncryptionHelper,
// AsymmetricHigherKeyEncryptionHelper and AuthenticatedEncryption in
// microsoft/PowerBI-CSharp, sdk/PowerBI.Api/Extensions. What the service decrypts is:
//
//   - a 1024-bit key (a 128-byte modulus): the UTF-8 credential JSON cut into 85-byte
//     segments, each encrypted alone with RSA-OAEP (SHA-1, the only OAEP of
//     RSACryptoServiceProvider), the 128-byte blocks concatenated and base64-encoded;
//   - any larger key: a fresh AES-256 key and HMAC-SHA256 key (32 and 64 bytes) encrypt the
//     JSON (AES-256-CBC, PKCS#7 padding, random IV; the tag covers the algorithm bytes, the IV
//     and the ciphertext), and RSA-OAEP with SHA-256 encrypts the two keys, prefixed by the
//     bytes 0 and 1 that name their lengths (32, 64). The result is base64(encrypted keys)
//     followed directly by base64(0, 0, tag, IV, ciphertext): two base64 strings joined.

// Credential types of gateway data sources that EncryptCredentials writes.
const (
	CredentialBasic     = "Basic"
	CredentialWindows   = "Windows"
	CredentialKey       = "Key"
	CredentialOAuth2    = "OAuth2"
	CredentialAnonymous = "Anonymous"
)

// DatasourceCredentials are a data source's credentials in the clear. Only the fields of its
// Type count. String, GoString and MarshalJSON never show the secrets, so that printing or
// logging one leaks nothing.
type DatasourceCredentials struct {
	Type        string // one of the Credential* constants
	Username    string // Basic and Windows (DOMAIN\user for Windows)
	Password    string // Basic and Windows
	Key         string // Key
	AccessToken string // OAuth2
}

func (c DatasourceCredentials) String() string   { return c.Type + " credentials (secrets redacted)" }
func (c DatasourceCredentials) GoString() string { return c.String() }

func (c DatasourceCredentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type string `json:"type"`
	}{c.Type})
}

type credentialPair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// credentialData is the document Power BI reads credentials from, in the format of the
// REST reference's examples: {"credentialData":[{"name":"username","value":"john"},
// {"name":"password","value":"..."}]}, with "key" for Key and "accessToken" for OAuth2; and
// {"credentialData":""} for Anonymous. Errors name a missing field, never a value.
func (c DatasourceCredentials) credentialData() ([]byte, error) {
	var pairs []credentialPair
	need := func(name, value string) error {
		if value == "" {
			return fmt.Errorf("pbiclient: %s credentials need a %s", c.Type, name)
		}
		pairs = append(pairs, credentialPair{name, value})
		return nil
	}
	var err error
	switch c.Type {
	case CredentialBasic, CredentialWindows:
		err = errors.Join(need("username", c.Username), need("password", c.Password))
	case CredentialKey:
		err = need("key", c.Key)
	case CredentialOAuth2:
		err = need("accessToken", c.AccessToken)
	case CredentialAnonymous:
		return []byte(`{"credentialData":""}`), nil
	default:
		return nil, fmt.Errorf("pbiclient: credential type %q is not one of Basic, Windows, Key, OAuth2 or Anonymous", c.Type)
	}
	if err != nil {
		return nil, err
	}
	// Without HTML escaping, as the SDK's Newtonsoft serializer writes it: a password with
	// "<" or "&" stays those bytes.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		CredentialData []credentialPair `json:"credentialData"`
	}{pairs}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// rsaKey decodes a gateway's public key: base64 of the big-endian exponent and modulus.
func (k GatewayPublicKey) rsaKey() (*rsa.PublicKey, error) {
	decode := func(what, s string) (*big.Int, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(s)
		}
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("pbiclient: the gateway's public key %s is not base64", what)
		}
		return new(big.Int).SetBytes(b), nil
	}
	n, err := decode("modulus", k.Modulus)
	if err != nil {
		return nil, err
	}
	e, err := decode("exponent", k.Exponent)
	if err != nil {
		return nil, err
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || n.BitLen() < 1024 {
		return nil, errors.New("pbiclient: the gateway's public key is not an RSA key of 1024 bits or more")
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

// EncryptCredentials encrypts credentials for a gateway with its public key, as the
// credentials of a CredentialDetails with encryptionAlgorithm RSA-OAEP.
func EncryptCredentials(key GatewayPublicKey, c DatasourceCredentials) (string, error) {
	plain, err := c.credentialData()
	if err != nil {
		return "", err
	}
	pub, err := key.rsaKey()
	if err != nil {
		return "", err
	}
	// The SDK tells the schemes apart by the modulus' length in bytes; a leading zero byte
	// some encoders add does not make a key longer.
	if pub.Size() == 128 {
		return encryptSegments(pub, plain)
	}
	return encryptHybrid(pub, plain)
}

// Segments of a credential encrypted with a 1024-bit key: 85 bytes fit one RSA-OAEP (SHA-1)
// block of 128 bytes.
const (
	credentialSegment = 85
	rsa1024Block      = 128
)

func encryptSegments(pub *rsa.PublicKey, plain []byte) (string, error) {
	out := make([]byte, 0, (len(plain)+credentialSegment-1)/credentialSegment*rsa1024Block)
	for seg := range slices.Chunk(plain, credentialSegment) {
		block, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, seg, nil)
		if err != nil {
			return "", fmt.Errorf("pbiclient: encrypt credentials: %w", err)
		}
		out = append(out, block...)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// The ephemeral keys of the hybrid scheme and the bytes that name its algorithms.
const (
	hybridAESKeyLen  = 32
	hybridHMACKeyLen = 64
	hybridKeyLen32   = 0 // KeyLengths.KeyLength32
	hybridKeyLen64   = 1 // KeyLengths.KeyLength64
	aeAES256CBCPKCS7 = 0 // AeCipher.Aes256CbcPkcs7
	aeHMACSHA256     = 0 // AeMac.HMACSHA256
)

func encryptHybrid(pub *rsa.PublicKey, plain []byte) (string, error) {
	keys := make([]byte, 2+hybridAESKeyLen+hybridHMACKeyLen)
	keys[0], keys[1] = hybridKeyLen32, hybridKeyLen64
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(keys[2:]); err != nil {
		return "", err
	}
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	encKey, macKey := keys[2:2+hybridAESKeyLen], keys[2+hybridAESKeyLen:]

	block, err := aes.NewCipher(encKey)
	if err != nil {
		return "", err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	ct := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)

	header := []byte{aeAES256CBCPKCS7, aeHMACSHA256}
	mac := hmac.New(sha256.New, macKey)
	mac.Write(header)
	mac.Write(iv)
	mac.Write(ct)
	message := bytes.Join([][]byte{header, mac.Sum(nil), iv, ct}, nil)

	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, keys, nil)
	if err != nil {
		return "", fmt.Errorf("pbiclient: encrypt credentials: %w", err)
	}
	return base64.StdEncoding.EncodeToString(wrapped) + base64.StdEncoding.EncodeToString(message), nil
}
