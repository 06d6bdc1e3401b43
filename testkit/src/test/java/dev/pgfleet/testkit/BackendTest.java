package dev.pgfleet.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BackendTest {
    @AfterEach
    void clear() {
        System.clearProperty(Backend.PROPERTY);
    }

    @Test
    void embeddedIsTheDefault() {
        assertEquals(Backend.EMBEDDED, Backend.selected());
    }

    @Test
    void testcontainersFailsClearly() {
        System.setProperty(Backend.PROPERTY, "testcontainers");
        IllegalStateException e = assertThrows(IllegalStateException.class, Backend::selected);
        assertTrue(e.getMessage().contains("testcontainers backend is not built in this version"), e.getMessage());
    }

    @Test
    void unknownBackendFails() {
        System.setProperty(Backend.PROPERTY, "docker");
        assertThrows(IllegalStateException.class, Backend::selected);
    }
}
