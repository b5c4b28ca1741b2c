module github.com/glimpse-ml/glimpse

go 1.26
