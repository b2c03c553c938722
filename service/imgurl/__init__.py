"""The GET URL API's grammar (imgproxy-compatible): the path (`imgpath`), the processing options
(`urloptions`), their meaning as one conversion (`resolve`) and the URL's refusals (`errors`).
Web-free: the HTTP handler is api/img.py; signatures and sources are in service/sources/."""
