#!/usr/bin/env python3
"""Synthetic texts with mojibake for comparing ftfy versions (see README.md)."""
import json, random
random.seed(14)
words = ['café','naïve','Zoë','HÔTEL','Nicolás','août','résumé','jalapeño','Ångström','façade','coöperate','über','São Paulo','niño','crème brûlée','don’t','“quoted”','— dash','élan','Björk','señor','Mötley','déjà vu','fiancée','piñata','Noël','smörgåsbord','naïveté','Ærø','Łódź','€5','£3','½ cup','©2018','™','…and']
plain = ['the','cat','sat','on','a','mat','and','then','it','was','HOTEL','Paris','in','August','.', ',', '!']
texts = []
for i in range(3000):
    toks = [random.choice(words + plain*2) for _ in range(random.randint(1, 8))]
    t = ' '.join(toks)
    r = random.random()
    if r < 0.4: t = t.encode('utf-8').decode('latin-1')
    elif r < 0.8: t = t.encode('utf-8').decode('cp1252', errors='replace')
    elif r < 0.9:
        k = random.randrange(len(toks)); toks[k] = toks[k].encode('utf-8').decode('cp1252', errors='replace'); t = ' '.join(toks)
    texts.append(t)
json.dump(texts, open('/tmp/hostile-texts.json','w'))
