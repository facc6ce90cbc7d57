from django.core.cache import cache

from inboxerr import debounce


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_first_call_of_a_period_wins_and_the_rest_of_it_do_not_ask_the_cache(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(debounce.time, "monotonic", clock)
    asked = []
    add = cache.add
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: asked.append(args[0]) or add(*args, **kwargs))

    assert debounce.first_in("kick", 1)
    clock.now += 0.9
    assert not debounce.first_in("kick", 1)
    assert asked == ["kick"], "a call within this process's own period asked the cache"

    cache.delete("kick")  # expired in the cache as the period ends
    clock.now += 0.1
    assert debounce.first_in("kick", 1)
    assert asked == ["kick", "kick"]


def test_a_key_another_process_holds_is_asked_about_until_this_process_takes_it(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(debounce.time, "monotonic", clock)
    cache.add("kick", 1, timeout=60)  # another process's

    assert not debounce.first_in("kick", 1)
    cache.delete("kick")
    clock.now += 0.1  # within a second of the refusal, but the key is gone: this process takes it
    assert debounce.first_in("kick", 1)
    assert debounce.first_in("other", 1)  # keys are apart
