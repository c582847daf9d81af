module github.com/btftool/btftool

go 1.26.8
