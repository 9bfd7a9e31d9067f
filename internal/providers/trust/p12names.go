package trust

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"hash"
	"unicode/utf16"
)

// go-pkcs12 v0.7.4 decodes trust stores without their friendly names
// (aliases). This file reads them, with the certificate each belongs to,
// for unencrypted and PBES2 (PBKDF2 + AES-CBC) encrypted safe contents.
// The password and integrity were already checked by
// pkcs12.DecodeTrustStore; anything else is reported as unsupported and the
// caller falls back to fingerprints.

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidCertBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidFriendlyName  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1      = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA512    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

var errUnsupported = errors.New("pkcs12: unsupported encryption for reading aliases")

type p12PFX struct {
	Version  int
	AuthSafe p12ContentInfo
	MacData  asn1.RawValue `asn1:"optional"`
}

type p12ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type p12EncryptedData struct {
	Version int
	Info    p12EncryptedContentInfo
}

type p12EncryptedContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Algorithm   pkix.AlgorithmIdentifier
	Content     []byte `asn1:"tag:0,optional"`
}

type p12SafeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue  `asn1:"tag:0,explicit"`
	Attributes []p12Attribute `asn1:"set,optional"`
}

type p12Attribute struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

type p12CertBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       asn1.RawValue
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

type namedCert struct {
	name string
	der  []byte
}

// p12FriendlyNames lists the certificate bags of a PKCS#12 file in order,
// with their friendly names.
func p12FriendlyNames(data []byte, password string) ([]namedCert, error) {
	var pfx p12PFX
	if _, err := asn1.Unmarshal(data, &pfx); err != nil {
		return nil, err
	}
	if !pfx.AuthSafe.ContentType.Equal(oidData) {
		return nil, errUnsupported
	}
	var authSafe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, err
	}
	var cis []p12ContentInfo
	if _, err := asn1.Unmarshal(authSafe, &cis); err != nil {
		return nil, err
	}
	var out []namedCert
	for _, ci := range cis {
		var contents []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &contents); err != nil {
				return nil, err
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed p12EncryptedData
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				return nil, err
			}
			var err error
			if contents, err = pbes2Decrypt(ed.Info.Algorithm, ed.Info.Content, password); err != nil {
				return nil, err
			}
		default:
			return nil, errUnsupported
		}
		var bags []p12SafeBag
		if _, err := asn1.Unmarshal(contents, &bags); err != nil {
			return nil, err
		}
		for _, b := range bags {
			if !b.ID.Equal(oidCertBag) {
				continue
			}
			var cb p12CertBag
			if _, err := asn1.Unmarshal(b.Value.Bytes, &cb); err != nil {
				return nil, err
			}
			nc := namedCert{der: cb.Data}
			for _, a := range b.Attributes {
				if !a.ID.Equal(oidFriendlyName) {
					continue
				}
				var bmp asn1.RawValue
				if _, err := asn1.Unmarshal(a.Value.Bytes, &bmp); err != nil {
					return nil, err
				}
				nc.name = decodeBMP(bmp.Bytes)
			}
			out = append(out, nc)
		}
	}
	return out, nil
}

func decodeBMP(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	if n := len(u); n > 0 && u[n-1] == 0 {
		u = u[:n-1]
	}
	return string(utf16.Decode(u))
}

// pbes2Decrypt decrypts PBES2 (PBKDF2 with HMAC-SHA-1/256/512, AES-CBC)
// content; the password is used as UTF-8, as OpenSSL, keytool and
// go-pkcs12 do for PBES2.
func pbes2Decrypt(alg pkix.AlgorithmIdentifier, content []byte, password string) ([]byte, error) {
	if !alg.Algorithm.Equal(oidPBES2) {
		return nil, errUnsupported
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &params); err != nil {
		return nil, err
	}
	if !params.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, errUnsupported
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kdf); err != nil {
		return nil, err
	}
	if kdf.Salt.Tag != asn1.TagOctetString {
		return nil, errUnsupported
	}
	var prf func() hash.Hash
	switch {
	case len(kdf.PRF.Algorithm) == 0 || kdf.PRF.Algorithm.Equal(oidHMACSHA1):
		prf = sha1.New
	case kdf.PRF.Algorithm.Equal(oidHMACSHA256):
		prf = sha256.New
	case kdf.PRF.Algorithm.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, errUnsupported
	}
	var keyLen int
	switch {
	case params.Scheme.Algorithm.Equal(oidAES128CBC):
		keyLen = 16
	case params.Scheme.Algorithm.Equal(oidAES192CBC):
		keyLen = 24
	case params.Scheme.Algorithm.Equal(oidAES256CBC):
		keyLen = 32
	default:
		return nil, errUnsupported
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.Scheme.Parameters.FullBytes, &iv); err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(prf, password, kdf.Salt.Bytes, kdf.Iterations, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != block.BlockSize() || len(content) == 0 || len(content)%block.BlockSize() != 0 {
		return nil, errors.New("pkcs12: malformed encrypted content")
	}
	out := make([]byte, len(content))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, content)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > block.BlockSize() || pad > len(out) {
		return nil, errors.New("pkcs12: bad padding (wrong password?)")
	}
	return out[:len(out)-pad], nil
}
